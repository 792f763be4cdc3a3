/**
 * Config of the PostgreSQL sink: table, write mode (append | overwrite | upsert on `upsertKeys`),
 * and the connection as a URL (postgres://... or pglite://<folder>), as host/port/database/user, or
 * `embedded: true` for the in-process database.
 */
import * as z from 'zod'
import { always, fieldPathText, lenientBool, lenientEnum, lenientInt, strictObject, text } from '../../../config/lenient.ts'
import type { PostgresConnectionParams, PostgresLoadConfig } from '../../../config/types.ts'
import { SSL_MODES, urlSslMode } from './tls.ts'
import { parseQualified } from './sql/quote.ts'
import { isTableTemplate, parseTableTemplate } from './table-template.ts'

export type { PostgresConnectionParams, PostgresLoadConfig }

/** A table name, `table` or `schema.table` (double quotes keep case and dots), checked as the sink parses it. */
export function tableName(description: string) {
  return text(description).superRefine((s, ctx) => {
    const r = parseQualified(s)
    if ('error' in r) ctx.addIssue({ code: 'custom', input: s, message: `table name ${r.error}` })
  })
}

const urlHelp = 'a postgres://user@host:5432/db (or postgresql://) URL, or pglite://<folder> for the embedded database'

export const postgresConnectionParamsSchema = strictObject(
  {
    url: z
      .string({ error: `must be ${urlHelp}` })
      .refine((s) => /^(postgres|postgresql|pglite):\/\//i.test(s.trim()) && URL.canParse(s.trim()), { error: `must be ${urlHelp}` })
      .describe(`Connection URL: ${urlHelp}.`)
      .optional(),
    host: text('Server host name or address.').optional(),
    port: lenientInt({ min: 1, max: 65535 }, 'Server port (default 5432).').optional(),
    database: text('Database name.').optional(),
    user: text('User name (or from credentialId).').optional(),
    password: z.string({ error: 'must be a string' }).describe('Password; prefer credentialId or ${VAR} interpolation.').optional(),
    batchsize: lenientInt({ min: 1 }, 'Rows per COPY chunk / statement batch.').optional(),
    currentSchema: text(
      'PostgreSQL schema of the table, the batch tracker and `sluice sql`, taken exactly as written (case kept; `"Sales"` with quotes, as in JDBC, is the same as Sales). Default: the connection\'s current_schema() (the first existing schema of its search_path, usually public).',
    ).optional(),
    sslmode: lenientEnum(
      [...SSL_MODES],
      'TLS as libpq\'s sslmode (default prefer; also from the URL\'s ?sslmode= or PGSSLMODE): "disable" plain only; "allow" plain, TLS when the server refuses plain; "prefer" TLS, plain when the server has no TLS; "require" TLS without verification (with sslrootcert: like verify-ca); "verify-ca" TLS, the certificate chain must lead to sslrootcert; "verify-full" verify-ca and the certificate must name the host. See docs/operating.md#security.',
    ).optional(),
    sslrootcert: text('PEM file of the CA(s) the server certificate must chain to ("system": the system\'s trusted CAs; relative to the pipeline file; also ?sslrootcert= or PGSSLROOTCERT). Given, the chain is verified in every TLS mode, as libpq does.').optional(),
    sslcert: text('PEM file of the client certificate for TLS client authentication (pg_hba `cert`), with sslkey (relative to the pipeline file; also ?sslcert= or PGSSLCERT).').optional(),
    sslkey: text('PEM file of the client certificate\'s private key, with sslcert (relative to the pipeline file; also ?sslkey= or PGSSLKEY).').optional(),
    poolSize: lenientInt({ min: 1 }, 'Connections in the pool.').optional(),
  },
  'Connection: url, or host/port/database/user (libpq PG* variables fill gaps).',
)

export const postgresLoadSchema = strictObject(
  {
    sinkType: lenientEnum(['postgresql'], 'The PostgreSQL sink ("postgres" and "pg" also accepted).', { postgres: 'postgresql', pg: 'postgresql' }),
    table: tableName(
      'Target table name: table or schema.table (double quotes keep case: "Sales"."Orders"). With {topic} in the table part (Kafka source only), one table per topic: "{topic}", "raw_{topic}", "myschema.{topic}"; characters of the topic outside [A-Za-z0-9_] become _, case is kept (see README "Routing topics to tables").',
    ),
    schemaName: text('Name of the table schema in schemaDir (columns for autoCreateTable).').optional(),
    writeMode: lenientEnum(['append', 'overwrite', 'upsert'], 'How rows are written: "append" (default), "overwrite" (replace the table contents atomically), "upsert" (on upsertKeys).').default('append'),
    upsertKeys: z
      .union([z.array(text('Key column.')), z.string()], { error: 'must be a list of column names' })
      .meta({ description: 'Key columns of upsert (ON CONFLICT target); a comma-separated string is accepted. Without it (as in the seed) the upsert uses the load schema\'s primaryKey, else the table\'s primary key, else its one unique constraint, read when the sink opens; with none of them the run stops at start (CONFIG_INVALID).' })
      .transform((v, ctx): string[] => {
        const keys = typeof v === 'string' ? v.split(',').map((k) => k.trim()).filter((k) => k.length > 0) : v
        if (keys.length === 0) {
          ctx.issues.push({ code: 'custom', input: v, message: 'must list at least one key column' })
          return z.NEVER
        }
        if (new Set(keys).size !== keys.length) {
          ctx.issues.push({ code: 'custom', input: v, message: 'must not repeat a column' })
          return z.NEVER
        }
        return keys
      })
      .optional(),
    columnMapping: z
      .record(z.string().min(1, { error: 'column names must be non-empty' }), fieldPathText('The record field the column is filled from.'), { error: 'must be an object of column -> field path' })
      .refine((r) => Object.keys(r).length > 0, { error: 'must have at least one entry' })
      .describe('Table column -> the record field or field path it is filled from, e.g. { "customer_city": "customer.address.city", "first_sku": "items[0].sku" }: nested JSON flattened into columns. A path that does not resolve is NULL (or the column default), as a missing field; the columns not listed map by name as without it. Applied after the transform steps; not with an aggregate step.')
      .optional(),
    autoCreateTable: lenientBool('Create the batch tracker (and the table when a schema is named) when absent (default true).').default(true),
    autoEvolve: lenientBool(
      'Add a nullable column, in the batch transaction, for a field of the records that the table lacks (default false; Kafka Connect\'s auto.evolve). Type: the load schema\'s when it declares the field, else the Connect schema\'s (extract.envelope connect or debezium), else from the values of the batch: integers bigint, other numbers numeric, strings text, booleans boolean, objects and arrays jsonb, integers with other numbers numeric, any other mix text; a field that is only null adds no column yet. Never drops, narrows or retypes a column: a value the column cannot hold is a RECORD_COLUMN dead letter. With columnMapping only its columns are added; metadata fields (key, topic, _metadata.*, __op) get none unless mapped. Without a load schema (and autoCreateTable) a missing table is created from its first records, upsertKeys as primary key. Off, a field without a column is not loaded (a warning names it once). See README "Schema evolution".',
    ).default(false),
    deleteOnTombstone: lenientBool('Delete the row of a Kafka tombstone (null value) by key; upsert only (default false).').default(false),
    embedded: lenientBool('Use the embedded in-process PostgreSQL (PGlite) (default false).').default(false),
    credentialId: text('Credential providing user/password (see docs/config.md#credentials).').optional(),
    connectionParams: postgresConnectionParamsSchema.default({}),
  },
  'PostgreSQL sink.',
).check(
  z.superRefine((v, ctx) => {
    const cp: PostgresConnectionParams = typeof v.connectionParams === 'object' && v.connectionParams !== null ? v.connectionParams : {}
    if (typeof v.writeMode !== 'string') return
    const template = typeof v.table === 'string' && isTableTemplate(v.table) ? parseTableTemplate(v.table) : undefined
    if (template !== undefined && 'error' in template) ctx.addIssue({ code: 'custom', path: ['table'], input: v.table, message: `a {topic} template that ${template.error}` })
    if (v.deleteOnTombstone === true && v.writeMode === 'upsert' && v.upsertKeys === undefined) {
      ctx.addIssue({ code: 'custom', path: ['upsertKeys'], input: undefined, message: 'required with deleteOnTombstone: a tombstone\'s key is matched against these columns, e.g. ["id"]' })
    }
    if (v.writeMode !== 'upsert' && v.upsertKeys !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['upsertKeys'], input: v.upsertKeys, message: `only used with writeMode upsert (writeMode is ${v.writeMode})` })
    }
    if (v.deleteOnTombstone === true && v.writeMode !== 'upsert') {
      ctx.addIssue({ code: 'custom', path: ['deleteOnTombstone'], input: true, message: `only allowed with writeMode upsert (writeMode is ${v.writeMode})` })
    }
    const url = typeof cp.url === 'string' ? cp.url.trim().toLowerCase() : cp.url === undefined ? undefined : ''
    if (url !== undefined && (cp.host !== undefined || cp.port !== undefined || cp.database !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['connectionParams', 'url'], input: cp.url, message: 'use either url or host/port/database, not both' })
    }
    const urlMode = typeof cp.url === 'string' ? urlSslMode(cp.url) : undefined
    if (urlMode !== undefined && !(SSL_MODES as readonly string[]).includes(urlMode)) {
      ctx.addIssue({ code: 'custom', path: ['connectionParams', 'url'], input: `sslmode=${urlMode}`, message: `sslmode must be one of ${SSL_MODES.join(', ')}` })
    }
    if ((cp.sslcert === undefined) !== (cp.sslkey === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['connectionParams', cp.sslcert === undefined ? 'sslkey' : 'sslcert'], input: cp.sslcert ?? cp.sslkey, message: 'sslcert and sslkey go together: give both' })
    }
    if (v.embedded === true && url !== undefined && !url.startsWith('pglite://')) {
      ctx.addIssue({ code: 'custom', path: ['connectionParams', 'url'], input: cp.url, message: 'with embedded: true the url must be pglite://<folder> (or omitted)' })
    }
    if (v.embedded !== true && url === undefined && (cp.host === undefined || cp.database === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['connectionParams'],
        input: v.connectionParams,
        message: 'needs url, or host and database, or "embedded": true on the load',
      })
    }
  }, always),
)

/**
 * Generates docs/config.md from the pipeline JSON Schema (itself generated from the zod schemas), so
 * the reference cannot drift: `npx node scripts/gen-config-docs.ts` rewrites it, a test compares.
 */
import { writeFile } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import { pipelineJsonSchema } from '../src/config/json-schema.ts'
import { CHANGE_FIELDS, METADATA_FIELDS, METADATA_PREFIX } from '../src/engine/metadata.ts'

type Node = {
  type?: string | string[]
  description?: string
  default?: unknown
  enum?: unknown[]
  const?: unknown
  anyOf?: Node[]
  oneOf?: Node[]
  properties?: Record<string, Node>
  required?: string[]
  items?: Node
  additionalProperties?: Node | boolean
  patternProperties?: Record<string, Node>
  pattern?: string
}

const intro = `# Pipeline configuration reference

Generated from the schemas that validate pipeline files (\`npx node scripts/gen-config-docs.ts\`;
a test keeps it in sync). \`sluice schema\` prints the same definitions as a JSON Schema for editors
(\`"$schema": "../schema/pipeline.schema.json"\`). \`sluice validate <file>\` checks a file and reports
every problem with its path, the value given and what is allowed.

## Conventions

- **Lenient spellings.** Enumerated values are compared case-insensitively with \`_\` and \`-\` ignored
  (\`ProcessingTime=5s\`, \`available-now\`, \`send_to_dlq\`); short forms \`logdrop\`, \`dlq\`, \`separate\` are
  accepted for late-data strategies, \`postgres\`/\`pg\` for \`postgresql\`. \`sluice validate\` and \`toJson\`
  show the canonical spelling (the first listed).
- **Numbers and booleans** may be written as strings (\`"5000"\`, \`"false"\`), as Spark options are.
- **Durations** are strings such as \`"5 seconds"\`, \`"500 ms"\`, \`"10 minutes"\`, \`"1 hour"\`, \`"2m"\`,
  \`"1.5 s"\` (units ms, s, m, h, d and their long forms); a plain number is **milliseconds**.
- **Triggers**: \`processingtime=<duration>\`, \`once\`, \`availablenow\`, \`continuous\` (default).
- **Environment interpolation.** Any string value may contain \`\${VAR}\` or \`\${VAR:-default}\` (the
  default applies when VAR is unset or empty); a default may hold references itself
  (\`\${X:-\${Y:-z}}\`, used only when X is unset, as in the shell); \`$\${\` writes a literal \`\${\`. A variable
  that is unset and has no default, a malformed or an unclosed reference is an error naming the field.
  Interpolation happens when a file is loaded, before validation, so \`"port": "\${PGPORT:-5432}"\` is fine.
- **Unknown keys are errors** (with a "did you mean" suggestion, and never with the value, which may
  be a mistyped secret), except \`kafka.*\` options of the Kafka source, which pass through to the
  client. \`"$schema"\` is allowed at the top level and ignored. \`__proto__\`, \`constructor\` and
  \`prototype\` are unknown keys wherever they appear.
- **Schema files** named by \`extract.schemaName\` and \`load.schemaName\` are read by \`sluice validate\`
  as by \`sluice run\`: a missing or malformed one is a validation error.
- **Table names** are \`table\` or \`schema.table\`; double quotes keep case and dots
  (\`"Sales"."Orders.2026"\`). An empty part (\`public.\`), a third part or a stray quote is an error.
- **Secrets** (\`password\`, passwords inside URLs, \`kafka.sasl.jaas.config\`, \`kafka.sasl.password\`,
  \`kafka.ssl.key.password\`, any secret-like key name, misspellings such as \`pasword\` included) are
  replaced by \`***\` in every output and error; see docs/operating.md#redaction.

## Credentials

\`credentialId\` (on the extract and the load) names a secret resolved at run time, first from the
environment variable \`SLUICE_CREDENTIAL_<ID>\` (ID upper-cased, other characters replaced by \`_\`:
\`postgres-prod-writer\` -> \`SLUICE_CREDENTIAL_POSTGRES_PROD_WRITER\`), holding either a plain password
or a JSON object such as \`{"user":"etl","password":"..."}\`; then from the credentials file
\`SLUICE_CREDENTIALS_FILE\` (default \`~/.config/sluice/credentials.json\`), a JSON object of id -> object,
which must not be readable by group or others (\`chmod 600\`), else Sluice refuses it
(\`CREDENTIAL_FILE_INSECURE\`).

## Kafka security

Every Kafka client of Sluice (the source, the Kafka DLQ and late-data relay, its recovery reader,
\`sluice status\`) is built from the same options, with the names Spark and librdkafka users know:

- \`kafka.security.protocol\`: \`PLAINTEXT\` (default), \`SSL\`, \`SASL_PLAINTEXT\`, \`SASL_SSL\`.
- \`kafka.sasl.mechanism\`: \`PLAIN\` (default), \`SCRAM-SHA-256\`, \`SCRAM-SHA-512\`, \`OAUTHBEARER\`
  (GSSAPI/Kerberos is not supported and is refused). The login comes from \`credentialId\` (its
  \`user\` and \`password\`; for OAUTHBEARER the password is the token), else from
  \`kafka.sasl.username\` / \`kafka.sasl.password\`, else from \`kafka.sasl.jaas.config\` written as
  for Spark: \`org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";\`.
- TLS (\`SSL\`, \`SASL_SSL\`): \`kafka.ssl.ca.location\` (PEM CA file; default the system's CAs),
  \`kafka.ssl.certificate.location\` and \`kafka.ssl.key.location\` (PEM client certificate and key, for
  brokers with \`ssl.client.auth=required\`; one combined PEM file may serve as both),
  \`kafka.ssl.key.password\` (encrypted key), \`kafka.ssl.endpoint.identification.algorithm\`
  (\`https\`, the default: the broker's certificate must name the host connected to; \`""\`: the host
  name is not checked, the chain still is). Relative paths are relative to the pipeline file. Java's
  keystore/truststore options (\`kafka.ssl.truststore.location\` ...) are not read: convert them to PEM.
- The options go into \`extract.connectionParams\`; a Kafka DLQ on the source's brokers uses the
  source's settings, a DLQ on another cluster takes the same option names (and a \`credentialId\`) in
  \`errorHandlingConfig.dlqConfig\`.
- \`validate\` and \`run\` refuse the same things: an unknown protocol or mechanism, a bootstrap list
  that is not \`host:port[,host:port]\`, a TLS file that is missing, not PEM, or whose key does not
  fit, \`kafka.ssl.*\` options with a non-TLS protocol (TLS would silently be off), SASL without a
  login, and a \`kafka.sasl.*\` name one or two typos from a known one (\`kafka.sasl.pasword\`: it would
  be passed on and ignored, and the connection would go out without the login meant; it is named with
  a suggestion, never with its value). A refused login or certificate at run time is fatal at once
  (docs/operating.md).

## Cross-field rules

- \`mode: streaming\` requires \`streamingConfigJson\` (batch mode may use it too, for its checkpoint).
- \`outputMode: complete\` requires an \`aggregate\` transform step; \`update\` without one behaves as append.
- An \`aggregate\` step must be the last transform step, have \`groupBy\` columns or a \`window\`, and
  needs \`outputMode\` \`update\` or \`complete\` (both keep the current result in the table; \`append\`,
  the default, is refused), \`writeMode: upsert\` with \`upsertKeys\` equal to its group columns (plus
  \`window_start\` when windowed), no \`deleteOnTombstone\`, and \`enableIdempotence: true\` (an
  at-least-once replay would add a batch to the totals twice). Its output column names must not repeat a
  group column, \`window_start\`/\`window_end\`, or an avg's hidden \`<name>__sum\`/\`<name>__count\`.
- \`watermark\` needs both \`eventTimeColumn\` and \`delayThreshold\`; \`lateDataConfig\` needs a \`watermark\`.
- \`lateDataConfig.strategy: sendtodlq\` needs \`dlqTopic\` or \`errorHandlingConfig.dlqConfig\`;
  \`separatestream\` needs \`separateTable\`, \`separateTopic\` or (as in the seed) \`dlqTopic\`, and uses
  the first of these three that is given. \`dlqTopic\` is a Kafka topic on the Kafka DLQ's cluster, else
  the Kafka source's; a pipeline without any Kafka takes it as a table name in the sink database.
- \`writeMode: upsert\` upserts on \`upsertKeys\` (the only accepted name; a comma-separated string is
  accepted too). Without it (the seed's upsert names no keys) the key is the load schema's
  \`primaryKey\`, else the target table's primary key, else its one unique constraint (partial,
  expression and deferrable unique indexes do not count), read when the sink opens; a table with none,
  or with several unique constraints and no primary key, stops \`run\` at start with
  \`CONFIG_INVALID\` naming the table. \`sluice validate\` says which key it will use.
  \`upsertKeys\` and \`deleteOnTombstone\` are only allowed with upsert; \`deleteOnTombstone\` needs
  \`upsertKeys\`.
- \`sluice validate\` prints where bad and late records go as \`run\` routes them: without a
  \`dlqConfig\`, bad records go to the table \`<load.table>_dlq\` in the sink database (a \`{topic}\` template reads
  \`{topic}\` as the word \`topic\`: \`raw_{topic}\` -> \`raw_topic_dlq\`).
- The load needs \`connectionParams.url\`, or \`host\` and \`database\`, or \`embedded: true\`.
- Kafka: one of \`topic\`, \`subscribe\`, \`subscribePattern\`; \`subscribe\` defaults to \`topic\`;
  \`subscribe\` and \`subscribePattern\` exclude each other. \`startingOffsets\` per-partition JSON must have
  integer partitions and integer offsets >= -2 (-2 = earliest, -1 = latest).
- \`cleanSource: archive\` needs \`sourceArchiveDir\`.
- \`extract.envelope: connect\` (Kafka Connect's JsonConverter envelope) is for JSON values: the Kafka
  source and \`format: json\` files, not CSV.
- \`load.columnMapping\` is not used with an \`aggregate\` step (its columns are its groups and
  aggregations, which take field paths themselves).
- A field path (\`a.b.c\`, \`items[0].sku\`, \`meta["trace.id"]\`) must be well formed wherever a field is
  read: every segment a non-empty name, brackets holding an index or a quoted name, starting with a
  name. A top-level field named exactly like the path wins over following it (README "Field paths and
  Kafka Connect's envelope").
- Limits (\`max*PerTrigger\`, \`batchsize\`, \`maxAttempts\`, thresholds, ports) must be positive.
`

function typeOf(n: Node): string {
  if (n.const !== undefined) return `\`${JSON.stringify(n.const)}\``
  if (n.enum) return n.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ')
  if (n.anyOf) {
    const e = n.anyOf.find((a) => a.enum)
    if (e?.enum) return e.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ')
    if (n.anyOf.some((a) => a.pattern?.startsWith('^\\s*(\\d+(\\.\\d+)?'))) return 'duration'
    const first = n.anyOf[0]
    if (first && first.type) return String(first.type)
  }
  if (n.oneOf) return 'one of below'
  if (n.type === 'array') return `array of ${n.items ? typeOf(n.items) : 'values'}`
  if (n.type === 'object' && !n.properties) return 'map'
  return Array.isArray(n.type) ? n.type.join(' \\| ') : (n.type ?? 'any')
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')

function rows(n: Node, prefix: string, out: string[], sections: [string, Node][]): void {
  for (const [key, child] of Object.entries(n.properties ?? {})) {
    if (key === '$schema') continue
    const path = prefix === '' ? key : `${prefix}.${key}`
    const required = n.required?.includes(key) ? 'yes' : ''
    const def = child.default === undefined ? '' : `\`${JSON.stringify(child.default)}\``
    out.push(`| \`${path}\` | ${typeOf(child)} | ${required} | ${def} | ${cell(child.description ?? '')} |`)
    if (child.properties) rows(child, path, out, sections)
    if (child.oneOf) sections.push([path, child])
    if (child.type === 'array' && child.items?.oneOf) sections.push([`${path}[]`, child.items])
    if (child.type === 'object' && typeof child.additionalProperties === 'object') {
      const v = child.additionalProperties
      if (v.properties) rows(v, `${path}.<name>`, out, sections)
      if (v.oneOf) sections.push([`${path}.<name>`, v])
    }
  }
}

/** The record metadata fields, from the table the engine adds them by (src/engine/metadata.ts). */
function metadataSection(): string[] {
  const out = [
    '## Record metadata fields',
    '',
    'Besides its own fields, every record has its metadata as fields, under the names of Spark\'s Kafka',
    'source columns, for every transform step (`select`, `rename`, `filter`, `cast`, `aggregate`',
    '`groupBy` and `field`), the watermark\'s `eventTimeColumn`, `upsertKeys` and the target table\'s',
    'columns: `"rename": {"key": "kafka_key"}` loads the Kafka key into `kafka_key`, a table column',
    '`topic` gets the topic.',
    '',
    `- **A record's own field wins.** When the payload has a field named like a bare metadata name`,
    '  (`timestamp` is common), that name is the payload\'s field, never overwritten; the metadata',
    `  is then still under \`${METADATA_PREFIX}<name>\` (\`${METADATA_PREFIX}timestamp\`), which every metadata`,
    '  field has (Spark\'s `_metadata` column). A payload field literally named `_metadata.<name>` wins too.',
    '- The extract schema (`extract.schemaName`) checks the payload only: metadata is added after it,',
    '  so `additionalProperties: false` is fine.',
    '- Only the fields that a step, the watermark, the upsert key or a table column names are built',
    '  (names compare case-insensitively), decided once when the query starts; the others cost nothing.',
    '',
    '| Name | Also bare | Sources | Type | Meaning |',
    '|---|---|---|---|---|',
  ]
  for (const f of METADATA_FIELDS) {
    out.push(`| \`${METADATA_PREFIX}${f.name}\` | ${f.bare ? `\`${f.name}\`` : ''} | ${f.sources.join(', ')} | ${cell(f.type)} | ${cell(f.description)} |`)
  }
  out.push('', 'With `extract.envelope: "debezium"` (Kafka) a change event also has these fields, added by the same rule:', '', '| Name | Type | Meaning |', '|---|---|---|')
  for (const f of CHANGE_FIELDS) out.push(`| \`${f.name}\` | ${cell(f.type)} | ${cell(f.description)} |`)
  return [...out, '']
}

const csvRules = `## CSV files (\`format: "csv"\`)

CSV is read as RFC 4180 describes it and PostgreSQL's \`COPY ... CSV\` reads it
([\`src/components/sources/file/csv.ts\`](../src/components/sources/file/csv.ts)):

- Fields are separated by \`csv.delimiter\` (one character, not \`"\` or a line break). A field that
  starts with \`"\` is quoted: it may hold the delimiter, line breaks and quotes written twice
  (\`"say ""hi"""\` is \`say "hi"\`), and must be followed by the delimiter or the end of the record.
  Spaces are data (\`a, b\` has the field \`" b"\`). Lines end with LF or CRLF; a line break inside a
  quoted field is read as LF. A UTF-8 byte order mark at the start is dropped.
- **NULL and empty**: as in PostgreSQL, an unquoted empty field (\`1,,3\`) is NULL and a quoted empty
  field (\`1,"",3\`) is the empty string.
- With \`csv.header\` (default true) the first record names the fields (an empty name becomes
  \`_c<index>\`); without it the fields are \`_c0\`, \`_c1\`, ... Blank lines (only spaces or tabs)
  between records are skipped.
- **Bad records are dead letters** (\`RECORD_DECODE\`; the DLQ keeps the bytes of the record, the
  reason names the file and the line the record starts on, e.g. \`orders.csv line 7: not valid CSV:
  stray quote in unquoted field 3\`, and \`sluice.source.topic\` is the file name), and the next
  record is read as usual:
  - a quote inside an unquoted field (\`1,5" screen\`);
  - a character after a closing quote (\`1,"abc"def\`);
  - a quoted field that is not closed before the end of the file, or within \`csv.maxRecordBytes\`
    (default 16 MiB);
  - a record with more or fewer fields than the header (without a header: than the first record).
- **Recovery**: records start at line starts. When the record starting on line N is not valid CSV,
  line N alone is the dead letter and reading goes on at line N + 1, so a stray quote never swallows
  the lines after it (a multi-line record with an error can therefore give more than one dead letter).
- When the header record itself is not valid CSV, or names a column twice (\`id,name,id\`: one of
  the two values of every record would be lost), the header and every record of that file are dead
  letters: their fields could not be named faithfully.
- A record's offset (\`offset\`, \`sluice.source.offset\`) is its row number after the header (blank
  lines and bad records count); \`_metadata.line\` is the line it starts on.
`

const header = ['| Field | Type | Required | Default | Meaning |', '|---|---|---|---|---|']

/** The Markdown reference. */
export function renderConfigDocs(): string {
  const schema = pipelineJsonSchema() as Node
  const out = [intro, ...metadataSection(), '## Top level', '', ...header]
  const sections: [string, Node][] = []
  rows(schema, '', out, sections)
  for (let i = 0; i < sections.length; i++) {
    const [path, node] = sections[i] ?? ['', {}]
    for (const variant of node.oneOf ?? []) {
      const disc = Object.entries(variant.properties ?? {}).find(([, p]) => p.const !== undefined)
      const title = disc ? `${disc[0]}: ${JSON.stringify(disc[1].const)}` : 'variant'
      out.push('', `## \`${path}\` with ${title}`, '', ...(variant.description ? [variant.description, ''] : []), ...header)
      rows(variant, path, out, sections)
    }
  }
  out.push('', csvRules)
  return `${out.join('\n')}\n`
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await writeFile(new URL('../docs/config.md', import.meta.url), renderConfigDocs())
}

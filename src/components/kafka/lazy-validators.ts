/**
 * Defers the Kafka client's option validators until they are first used (start-up time, issue 13).
 *
 * @platformatic/kafka compiles about 40 Ajv schemas (the options of every Admin, Consumer and
 * Producer method) while its modules load: 120-135 ms of a 0.4 s import on this machine
 * (node --cpu-prof of `import '@platformatic/kafka'`), a fifth of Sluice's start-up, although a
 * pipeline calls a handful of those methods. Its modules all compile through the one Ajv instance
 * exported by its `utils.js`; replacing that instance's `compile`, before the modules that call
 * it load, with one that returns a validator compiling its schema on the first call keeps every
 * validation (same schema, same instance and keywords, same `errors` read by the client after
 * the call) and drops the cost of the ones never called. No schema of the client refers to
 * another (`$id`/`$ref`), so compiling later, or in another order, gives the same validators.
 * A deferred compile does not check the schema against JSON Schema's meta-schema: the first such
 * check compiles the meta-schema itself, 126 ms, which would move most of the cost to the first
 * fetch. The schemas are the client's constants; lazy-validators.test.ts checks every one of them
 * against the meta-schema instead (a new client version with a malformed schema fails there).
 *
 * Must run before the client's index loads: src/cli/main.ts imports this module first (ES modules
 * evaluate in import order, and this one loads utils.js synchronously, so nothing else of the
 * client has been evaluated yet). Anywhere else it is simply not installed and the client
 * compiles eagerly, as before. The dependency is pinned to an exact version;
 * lazy-validators.test.ts fails if the client no longer compiles through this instance at load.
 * The client compiles only while it loads (module-level constants), never per call, so the list of
 * deferred validators stops growing once it has loaded (the test checks this too).
 * The change belongs upstream (compile on first use in the client itself).
 */
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

/** The slice of an Ajv validator the client uses: a call, then `errors`. */
interface Validator {
  (data: unknown): boolean
  errors?: unknown
}

interface CompilingAjv {
  compile(schema: object, meta?: boolean): Validator
  validateSchema(schema: object): boolean
  readonly opts: { validateSchema?: boolean | 'log' }
}

/** Marks a deferred validator (for the test). */
export const deferred: unique symbol = Symbol('sluice.deferredValidator')

/** A validator that compiles `schema` with `compile` on its first call and then behaves as that validator. */
export function lazyValidator(compile: (schema: object) => Validator, schema: object): Validator {
  let real: Validator | undefined
  const validate = (data: unknown): boolean => {
    real ??= compile(schema)
    const ok = real(data)
    validate.errors = real.errors
    return ok
  }
  validate.errors = undefined as unknown
  return Object.assign(validate, { [deferred]: true })
}

/** The client's shared Ajv instance (its utils.js, the same module instance the client imports). */
function clientAjv(): CompilingAjv {
  const utils = new URL('./utils.js', import.meta.resolve('@platformatic/kafka'))
  // require() of an ES module is synchronous, so the patch is in place before this module's
  // importer goes on to evaluate the client's other modules.
  const require = createRequire(import.meta.url)
  return (require(fileURLToPath(utils)) as { ajv: CompilingAjv }).ajv
}

let installed = false
const made: Array<{ readonly schema: object; readonly validate: Validator }> = []

/** The validators made deferred, with their schemas, in the order the client asked (for the test). */
export function deferredValidators(): ReadonlyArray<{ readonly schema: object; readonly validate: Validator }> {
  return made
}

/** Installs the deferred compile on the client's Ajv instance (idempotent). */
export function deferKafkaValidators(): void {
  if (installed) return
  installed = true
  const ajv = clientAjv()
  const compile = ajv.compile.bind(ajv)
  // The client's constants, checked against the meta-schema by the test (see the file comment).
  const compileUnchecked = (schema: object): Validator => {
    const check = ajv.opts.validateSchema
    ajv.opts.validateSchema = false
    try {
      return compile(schema)
    } finally {
      ajv.opts.validateSchema = check
    }
  }
  ajv.compile = (schema: object, meta?: boolean): Validator => {
    // A meta-schema compile (Ajv's own, for a keyword definition) is not the client's: as it was.
    if (meta !== undefined) return compile(schema, meta)
    const validate = lazyValidator(compileUnchecked, schema)
    made.push({ schema, validate })
    return validate
  }
}

deferKafkaValidators()

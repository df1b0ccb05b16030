import { fieldsOf, type DtoClass } from './field-registry';

/**
 * Builds DTO instances from parsed JSON for class-validator, in place of
 * class-transformer's `plainToInstance`, which the API cannot use on user JSON:
 * it rebuilds every nested object and throws a TypeError (a 500) on any object
 * with a `constructor` key, e.g. a payload `{"constructor": "x"}` (it takes the
 * key for the class). Here only the DTO levels become instances; every other
 * value, payloads included, is kept exactly as parsed, by reference.
 */

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An instance of `dto` holding `plain`'s own properties (converted where the
 * field says so). Values of the wrong shape are kept as they are, for the rules
 * to refuse. `plain` must have passed checkJsonShape (no `__proto__` keys).
 * Unknown keys named like an Object.prototype member are not copied but
 * pushed (as field paths) onto `shadowing`.
 */
export function toDto<T extends object>(
  dto: DtoClass<T>,
  plain: Record<string, unknown>,
  shadowing: string[] = [],
  path = '',
): T {
  const instance = new dto();
  const fields = fieldsOf(dto);
  for (const key of Object.keys(plain)) {
    let value = plain[key];
    const spec = fields.get(key);
    if (!spec && key in Object.prototype) {
      // An unknown `constructor` (or `toString`, …) on the instance would replace
      // what class-validator reads from it (`instance.constructor`: a TypeError,
      // a 500): left off, and reported by the caller as an unknown field.
      shadowing.push(path ? `${path}.${key}` : key);
      continue;
    }
    if (spec?.convert) value = spec.convert(value);
    const nested = spec?.nested;
    if (nested) {
      const build = (item: unknown, at: string): unknown =>
        isPlainObject(item) ? toDto(nested.type(), item, shadowing, at) : item;
      const at = path ? `${path}.${key}` : key;
      value = nested.each
        ? Array.isArray(value)
          ? value.map((item: unknown, index) => build(item, `${at}[${index}]`))
          : value
        : build(value, at);
    }
    Object.defineProperty(instance, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return instance;
}

// The config reference (a Markdown table) rendered from the schema, so the README can be checked against the code.
import { z } from 'zod';
import { configSchema, type KeyDoc } from './schema.js';

interface Row { key: string; type: string; default: string; description: string }

/** Every key with its type, default and description, in schema order. Deterministic: no machine-specific values. */
export function configReference(): string {
  const rows = collectRows(configSchema(), '');
  const lines = ['| Key | Type | Default | Description |', '|---|---|---|---|'];
  for (const r of rows) lines.push(`| \`${r.key}\` | ${r.type} | ${r.default} | ${escapeCell(r.description)} |`);
  return `${lines.join('\n')}\n`;
}

type AnySchema = z.core.$ZodType;

function def(schema: AnySchema): z.core.$ZodTypeDef & Record<string, unknown> {
  return schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
}

/** Looks through optional/default wrappers and preprocess/transform pipes to the schema that holds the shape. */
function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (;;) {
    const d = def(current);
    if (d.type === 'optional' || d.type === 'default' || d.type === 'prefault' || d.type === 'nullable') {
      current = d.innerType as AnySchema;
    } else if (d.type === 'pipe') {
      const inner = d.in as AnySchema;
      current = def(inner).type === 'transform' ? (d.out as AnySchema) : inner;
    } else {
      return current;
    }
  }
}

function collectRows(object: AnySchema, prefix: string): Row[] {
  const rows: Row[] = [];
  const shape = def(object).shape as Record<string, AnySchema>;
  for (const [name, field] of Object.entries(shape)) {
    const key = prefix ? `${prefix}.${name}` : name;
    const meta = z.globalRegistry.get(field) as KeyDoc | undefined;
    if (!meta?.description) throw new Error(`config schema: ${key} has no description`);
    const inner = unwrap(field);
    rows.push({ key, type: meta.valueType ?? enumText(inner, key), default: defaultText(field, meta), description: meta.description });
    if (def(inner).type === 'object') rows.push(...collectRows(inner, key));
    if (def(inner).type === 'array') {
      const element = unwrap(def(inner).element as AnySchema);
      if (def(element).type === 'object') rows.push(...collectRows(element, `${key}[]`));
    }
  }
  return rows;
}

function enumText(schema: AnySchema, key: string): string {
  const d = def(schema);
  if (d.type !== 'enum') throw new Error(`config schema: ${key} needs a valueType`);
  return Object.values(d.entries as Record<string, string>).map((v) => `\`${v}\``).join(' \\| ');
}

function defaultText(field: AnySchema, meta: KeyDoc): string {
  if (meta.defaultText !== undefined) return meta.defaultText;
  const d = def(field);
  if (d.type === 'default' || d.type === 'prefault') {
    const value = d.defaultValue;
    // An object default only switches a section on; its keys' rows show the actual defaults.
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return def(unwrap(field)).type === 'record' ? '`{}`' : '';
    if (value === '') return '`""`';
    return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
  }
  return field._zod.optin === 'optional' ? '' : '**required**';
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

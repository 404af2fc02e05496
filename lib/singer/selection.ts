/**
 * Singer/Meltano selection rules for one catalog entry (meltano/sdk singerlib/catalog.py).
 * For a breadcrumb, the first rule that applies wins:
 *   no metadata at all → selected; parent deselected → deselected; `inclusion: unsupported` →
 *   never; `inclusion: automatic` → always; explicit `selected` (boolean or "true"/"false");
 *   `selected-by-default`; otherwise the parent's value (a stream with nothing set is not selected).
 * The tap's own key and replication-key fields count as automatic whatever the catalog says.
 */

/** Metadata by breadcrumb joined with NUL ('' is the stream itself). */
export type MetadataIndex = Map<string, Record<string, unknown>>;

const key = (crumb: readonly string[]): string => crumb.join('\u0000');

function flag(v: unknown): boolean | undefined {
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  return undefined;
}

function decide(md: Record<string, unknown> | undefined, parent: boolean, forcedAutomatic: boolean): boolean {
  if (!parent) return false;
  if (md?.inclusion === 'unsupported') return false;
  if (forcedAutomatic || md?.inclusion === 'automatic') return true;
  const explicit = flag(md?.selected);
  if (explicit !== undefined) return explicit;
  const byDefault = flag(md?.['selected-by-default']);
  if (byDefault !== undefined) return byDefault;
  return parent;
}

/** Whether the stream is selected; `legacy` is the old `schema.selected` flag (singer-python). */
export function isStreamSelected(index: MetadataIndex, legacy: boolean | undefined): boolean {
  const md = index.get('');
  if (md?.inclusion === 'unsupported') return false;
  if (md?.inclusion === 'automatic') return true;
  const explicit = flag(md?.selected);
  if (explicit !== undefined) return explicit;
  if (legacy !== undefined) return legacy;
  if (index.size === 0) return true;
  // A stream has no parent to inherit from: with nothing said, it is not selected.
  return flag(md?.['selected-by-default']) ?? false;
}

/**
 * Breadcrumbs (`['properties','x']`, `['properties','x','properties','y']`) of the fields that are
 * not selected, for a selected stream whose schema is `schema`. `automatic` lists top-level field
 * names that are always kept.
 */
export function deselectedFields(index: MetadataIndex, schema: Record<string, unknown>, automatic: readonly string[]): string[][] {
  const out: string[][] = [];
  if (index.size === 0) return out;
  const auto = new Set(automatic);
  const walk = (node: Record<string, unknown>, prefix: string[], parentSelected: boolean, topLevel: boolean): number => {
    const props = (node.properties ?? {}) as Record<string, Record<string, unknown>>;
    let kept = 0;
    for (const [name, sub] of Object.entries(props)) {
      const crumb = [...prefix, 'properties', name];
      let selected = decide(index.get(key(crumb)), parentSelected, topLevel && auto.has(name));
      if (selected && sub.properties && typeof sub.properties === 'object') {
        const children = Object.keys(sub.properties as object).length;
        if (children > 0 && walk(sub, crumb, true, false) === 0) selected = false;
      }
      if (selected) kept++;
      else out.push(crumb);
    }
    return kept;
  };
  walk(schema, [], true, true);
  return out;
}

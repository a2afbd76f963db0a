// A strict parser of the Prometheus text exposition format 0.0.4, for the metrics tests: every
// line must be a HELP, a TYPE, a blank line or a sample of the family declared just before it;
// label values are unescaped; histograms are checked for cumulative buckets ending in +Inf equal
// to _count. Anything else throws, naming the line. (The npm parser we tried loses the labels
// of labelled histograms, so the test could not have trusted it.)

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name (e.g. x_bucket, x_sum). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: Family | null = null;
  const lines = text.split('\n');
  if (lines.pop() !== '') throw new Error('the exposition must end with a newline');
  for (const [i, line] of lines.entries()) {
    const fail = (why: string): never => {
      throw new Error(`line ${i + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) {
        if (/^# (HELP|TYPE)\b/.test(line)) fail('malformed HELP/TYPE');
        continue; // a plain comment
      }
      const [, kind, name, rest] = m as unknown as [string, 'HELP' | 'TYPE', string, string];
      if (!NAME.test(name)) fail('bad metric name');
      let f = families.get(name);
      if (!f) {
        f = { name, help: '', type: 'untyped', samples: [] };
        families.set(name, f);
      } else if (f.samples.length > 0) fail('HELP/TYPE after samples of the family');
      if (kind === 'HELP') f.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      else {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) fail('unknown type');
        f.type = rest as MetricType;
      }
      current = f;
      continue;
    }
    const sample = parseSample(line, fail);
    const family: Family = current ?? fail('sample before any TYPE');
    const allowed =
      family.type === 'histogram'
        ? [`${family.name}_bucket`, `${family.name}_sum`, `${family.name}_count`]
        : family.type === 'summary'
          ? [family.name, `${family.name}_sum`, `${family.name}_count`]
          : [family.name];
    if (!allowed.includes(sample.name)) fail(`sample does not belong to family ${family.name}`);
    if (sample.name.endsWith('_bucket') && family.type === 'histogram' && sample.labels.le === undefined) fail('bucket without le');
    family.samples.push(sample);
  }
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function parseSample(line: string, fail: (why: string) => never): Sample {
  let i = 0;
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? fail('no metric name');
  i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const ln = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i))?.[0] ?? fail('bad label name');
      if (!LABEL_NAME.test(ln)) fail('bad label name');
      i += ln.length;
      if (line[i] !== '=' || line[i + 1] !== '"') fail('expected ="');
      i += 2;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) fail('unterminated label value');
        if (c === '"') break;
        if (c === '\\') {
          const n = line[i + 1];
          if (n === 'n') value += '\n';
          else if (n === '\\' || n === '"') value += n;
          else fail('bad escape');
          i += 2;
        } else {
          value += c;
          i++;
        }
      }
      i++;
      if (ln in labels) fail(`label ${ln} twice`);
      labels[ln] = value;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') fail('expected , or }');
    }
    i++;
  }
  const rest = line.slice(i);
  const m = /^ (\S+)( -?\d+)?$/.exec(rest) ?? fail('expected " value [timestamp]"');
  const v = m[1]!;
  const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : v === 'NaN' ? NaN : Number(v);
  if (v !== 'NaN' && Number.isNaN(value)) fail('value is not a number');
  return { name, labels, value };
}

function checkHistogram(f: Family): void {
  const series = new Map<string, { buckets: Array<[number, number]>; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let e = series.get(key);
    if (!e) {
      e = { buckets: [] };
      series.set(key, e);
    }
    if (s.name.endsWith('_bucket')) e.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value]);
    else if (s.name.endsWith('_count')) e.count = s.value;
    else e.sum = s.value;
  }
  for (const [key, e] of series) {
    const where = `histogram ${f.name} ${key}`;
    if (e.count === undefined || e.sum === undefined) throw new Error(`${where}: _count or _sum missing`);
    const last = e.buckets[e.buckets.length - 1];
    if (!last || last[0] !== Infinity) throw new Error(`${where}: no +Inf bucket last`);
    if (last[1] !== e.count) throw new Error(`${where}: +Inf bucket ${last[1]} differs from _count ${e.count}`);
    for (let i = 1; i < e.buckets.length; i++) {
      const [le0, n0] = e.buckets[i - 1]!;
      const [le1, n1] = e.buckets[i]!;
      if (!(le1 > le0) || n1 < n0) throw new Error(`${where}: buckets not increasing at le=${le1}`);
    }
  }
}

/** The one sample of `family` (by its own name) whose labels include `labels`; throws when not exactly one. */
export function sampleValue(families: Map<string, Family>, family: string, labels: Record<string, string> = {}, sampleName = family): number {
  const f = families.get(family);
  if (!f) throw new Error(`no metric family ${family} (have: ${[...families.keys()].join(', ')})`);
  const hits = f.samples.filter((s) => s.name === sampleName && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length !== 1) throw new Error(`${hits.length} samples of ${sampleName} match ${JSON.stringify(labels)}`);
  return hits[0]!.value;
}

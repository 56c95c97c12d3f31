/** Command-line options of `npm run bench` (pure; tested in test/bench/). */

export interface BenchOptions {
  /** Compare against another implementation: only 'tfjs' exists. */
  vs: 'tfjs' | null;
  json: string | null;
  markdown: string | null;
  /** Case-insensitive substrings; a case runs if "kernel case" contains any. */
  filter: string[];
  /** Fixed number of timed repeats (otherwise chosen from a time budget). */
  repeats: number | null;
  quick: boolean;
  /** Run the cases that are too slow for a software adapter (matmul 2048³). */
  full: boolean;
  /** Time with the wall clock even when timestamp queries exist. */
  wall: boolean;
  /** Measure only the host cost of the training steps (bench/host.ts). */
  host: boolean;
  /** Where --host measures: the real adapter (GPU idle during timing) or Dawn's null backend. */
  hostBackend: 'adapter' | 'null';
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [options]

  --vs tfjs        also run each case through TF.js (tfjs-backend-webgpu) on the
                   same adapter, interleaved, and report the speed-up and max |Δ|
  --json FILE      write the results as JSON
  --md FILE        write the results table as Markdown
  --filter NAME    run only cases whose "kernel case" contains NAME (repeatable,
                   or comma-separated; case-insensitive)
  --repeats N      timed repeats per case (default: as many as fit ~1.5 s, 3..15)
  --quick          fewer repeats and a shorter calibration
  --full           include the cases skipped on software adapters (matmul 2048³)
  --wall           time with the wall clock even if timestamp queries exist
  --host           only the host cost of each training step, eager vs replayed,
                   beside the raw Dawn floors; with --quick every case at batch 8
                   (the same dispatches, a short GPU part: under two minutes on lavapipe)
  --host-backend adapter|null
                   where --host measures (default adapter: the GPU idle while
                   timing; null: Dawn's null backend, which may crash, see bench/host.ts)
  --help           this text`;

export class ArgError extends Error {}

export function parseArgs(argv: readonly string[]): BenchOptions {
  const o: BenchOptions = {
    vs: null,
    json: null,
    markdown: null,
    filter: [],
    repeats: null,
    quick: false,
    full: false,
    wall: false,
    host: false,
    hostBackend: 'adapter',
    help: false,
  };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new ArgError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    let inline: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      inline = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const take = (): string => {
      if (inline !== undefined) return inline;
      const v = value(i, a);
      i++;
      return v;
    };
    switch (a) {
      case '--vs': {
        const v = take();
        if (v !== 'tfjs') throw new ArgError(`--vs: only 'tfjs' is supported, got '${v}'`);
        o.vs = 'tfjs';
        break;
      }
      case '--json':
        o.json = take();
        break;
      case '--md':
      case '--markdown':
        o.markdown = take();
        break;
      case '--filter':
        o.filter.push(
          ...take()
            .split(',')
            .map((s) => s.trim().toLowerCase())
            .filter(Boolean),
        );
        break;
      case '--repeats': {
        const v = take();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new ArgError(`--repeats needs a positive integer, got '${v}'`);
        o.repeats = n;
        break;
      }
      case '--quick':
        o.quick = true;
        break;
      case '--full':
        o.full = true;
        break;
      case '--wall':
        o.wall = true;
        break;
      case '--host':
        o.host = true;
        break;
      case '--host-backend': {
        const v = take();
        if (v !== 'adapter' && v !== 'null') throw new ArgError(`--host-backend: 'adapter' or 'null', got '${v}'`);
        o.hostBackend = v;
        break;
      }
      case '--help':
      case '-h':
        o.help = true;
        break;
      default:
        throw new ArgError(`unknown option '${argv[i]}'\n\n${USAGE}`);
    }
  }
  return o;
}

/** True if the case "kernel case" is selected by the filters (none = all). */
export function selected(filter: readonly string[], kernel: string, name: string): boolean {
  if (filter.length === 0) return true;
  const s = `${kernel} ${name}`.toLowerCase();
  return filter.some((f) => s.includes(f));
}

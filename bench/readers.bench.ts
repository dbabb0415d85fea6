// Reader benchmark: time to open a model and build the IR, warm (in-process) and cold (whole process,
// module loading included), with peak RSS; baselines measured in the same run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { openModel } from '../src/core/open';
import { generatedFixtures, hasSharedFixtures, repoRoot, sharedRealFixtures } from '../test/helpers/paths';

export interface ReaderTarget {
  label: string;
  path: string;
  /** Size of the structure file (saved_model.pb, .meta, .h5 or .keras). */
  structureBytes: number;
  /** Size of variables.data* (never read for structure). */
  dataBytes: number;
}

function sizeOf(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

function dataBytes(dir: string): number {
  const vdir = path.join(dir, 'variables');
  if (!existsSync(vdir)) return 0;
  return readdirSync(vdir).filter((f) => f.includes('.data-')).reduce((n, f) => n + sizeOf(path.join(vdir, f)), 0);
}

export function savedModelTarget(label: string, dir: string): ReaderTarget {
  const pb = existsSync(path.join(dir, 'saved_model.pb')) ? 'saved_model.pb' : 'saved_model.pbtxt';
  return { label, path: dir, structureBytes: sizeOf(path.join(dir, pb)), dataBytes: dataBytes(dir) };
}

export function fileTarget(label: string, file: string): ReaderTarget {
  return { label, path: file, structureBytes: sizeOf(file), dataBytes: 0 };
}

export function fixtureTargets(): ReaderTarget[] {
  const out: ReaderTarget[] = [];
  if (hasSharedFixtures) {
    for (const name of ['openmv_mobilenet_bn', 'kws_dscnn_bn_tf24', 'vespa_tf1_batchnorm_train', 'vespa_modelv1']) {
      out.push(savedModelTarget(`shared/${name}`, path.join(sharedRealFixtures, name)));
    }
    out.push(fileTarget('shared/h5_tiny_vww_mobilenet_bn', path.join(sharedRealFixtures, 'h5_tiny_vww_mobilenet_bn/vww_96.h5')));
  }
  const gen = (p: string) => path.join(generatedFixtures, p);
  if (existsSync(gen('k2_nested_frozen_base/saved_model'))) out.push(savedModelTarget('generated/k2_nested_frozen_base', gen('k2_nested_frozen_base/saved_model')));
  if (existsSync(gen('tf1_seed/saved_model'))) out.push(savedModelTarget('generated/tf1_seed', gen('tf1_seed/saved_model')));
  if (existsSync(gen('k3_cnn_bn/k3_cnn_bn.keras'))) out.push(fileTarget('generated/k3_cnn_bn.keras', gen('k3_cnn_bn/k3_cnn_bn.keras')));
  const large = path.join(repoRoot, '.bench');
  for (const name of ['mobilenet', 'resnet152', 'efficientnetb7', 'resnet50_frozen_graph', 'tf1_large_graph']) {
    if (existsSync(path.join(large, name, 'saved_model.pb'))) out.push(savedModelTarget(`large/${name}`, path.join(large, name)));
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Warm, in-process: median over runs after one warm-up. */
export async function warmOpenMs(target: string, runs = 7): Promise<number> {
  const h0 = await openModel(target);
  await h0.close();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const h = await openModel(target);
    times.push(performance.now() - t0);
    await h.close();
  }
  return median(times);
}

/** Cold, whole process: `node dist/cli.js inspect --json PATH`, wall time and peak RSS of the child. */
export function coldProcess(args: string[], runs = 3): { ms: number; rssMB: number } {
  const times: number[] = [];
  let rss = 0;
  const script =
    `const t=require(${JSON.stringify(path.join(repoRoot, 'dist/cli.js'))});` +
    `t.main(${JSON.stringify(args)},{stdout(){},stderr(s){process.stderr.write(s)}}).then(c=>{` +
    // VmHWM, not resourceUsage().maxRSS: Linux carries ru_maxrss over fork+exec, so a child of a big parent
    // would report the parent's peak. VmHWM belongs to the new address space the exec created.
    `const hwm=/VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status','utf8'));` +
    `process.stdout.write(JSON.stringify({code:c,rss:hwm?Number(hwm[1]):process.resourceUsage().maxRSS}));})`;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', maxBuffer: 1 << 26 });
    times.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`cold run failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { code: number; rss: number };
    if (out.code !== 0) throw new Error(`inspect exited ${out.code}: ${r.stderr}`);
    rss = Math.max(rss, out.rss / 1024);
  }
  return { ms: median(times), rssMB: rss };
}

/** The floor: a node process that loads nothing. */
export function nodeFloorMs(runs = 5): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Baseline when a TensorFlow venv exists: tf.saved_model.load, whole process, same model. */
export function pythonLoadMs(python: string, target: string): { ms: number; loadOnlyMs: number } | null {
  if (!existsSync(python)) return null;
  const code =
    'import os,time,sys;os.environ["TF_CPP_MIN_LOG_LEVEL"]="3";os.environ["CUDA_VISIBLE_DEVICES"]="";' +
    'import tensorflow as tf;t=time.perf_counter();tf.saved_model.load(sys.argv[1]);print((time.perf_counter()-t)*1000)';
  const t0 = performance.now();
  const r = spawnSync(python, ['-c', code, target], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) return null;
  return { ms, loadOnlyMs: Number(r.stdout.trim().split('\n').pop()) };
}

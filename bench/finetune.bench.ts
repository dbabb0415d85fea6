// Fine-tune engine benchmark, measured in one run on one machine:
//  - where a step's time goes: XNNPACK products, our convolution gradients, BatchNorm, other kernels, outside kernels
//  - tfjs (wasm + our gradient kernels) step time vs real TensorFlow CPU step time, same model and batch;
//    the same with 1 and 2 wasm threads, and without the fast paths (the engine as first built)
//  - stock tfjs kernels vs ours (per gradient kernel, on the model's own conv shapes; whole step on cpu)
//  - time to first step (model rebuild + weight load + first step)
//  - peak RSS of a process running the worker on a MobileNet-size model
// Run: npx tsx bench/finetune.bench.ts   (prints JSON)
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { openModel } from '../src/core/open';
import { analyze } from '../src/core/analysis/analyze';
import { defaultFreezeConfig } from '../src/core/analysis/freeze-config';
import { buildVerifyRequest } from '../src/core/finetune/plan';
import { runTfjsVerification } from '../src/core/finetune/tfjs/tfjs-engine';
import { PythonEngine } from '../src/core/finetune/python-engine';
import { selectBackend, tfjsNodeInstalled } from '../src/core/finetune/tfjs/backend';
import { referenceKernel, registerGradientKernels, unregisterGradientKernels, type GradientKernelName } from '../src/core/finetune/kernels/register';
import type { VerifyRequest } from '../src/core/finetune/types';

const repoRoot = path.resolve(__dirname, '..');
const mobilenet = path.resolve(repoRoot, '../shared/fixtures/real/h5_tiny_vww_mobilenet_bn/vww_96.h5');
const resnet = path.resolve(repoRoot, '../shared/fixtures/real/h5_tiny_resnet8_bn/pretrainedResnet.h5');
const tfPython = process.env.FREEZE_INSPECTOR_TF215_PYTHON ?? path.join(os.homedir(), '.cache/freeze-inspector/venvs/tf215/bin/python');

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
}

async function request(modelPath: string, steps: number, batchSize: number): Promise<VerifyRequest> {
  const h = await openModel(modelPath);
  try {
    const config = defaultFreezeConfig(modelPath);
    return buildVerifyRequest({ requestId: 'bench', model: h.model, config, configPath: null, analysis: analyze(h.model, config), settings: { steps, batchSize, optimizer: 'sgd', learningRate: 0.01, seed: 1, data: { kind: 'synthetic' } } });
  } finally {
    await h.close();
  }
}

/** Conv shapes of a rebuilt model's layers, for kernel-level comparisons. */
interface ConvShape { kind: 'conv' | 'dw'; x: [number, number, number, number]; f: [number, number, number, number]; s: [number, number]; pad: 'same' | 'valid' }

function convShapes(kerasConfig: unknown, batch: number): ConvShape[] {
  // Walk the functional graph in order, tracking spatial size (all these models are single-path NHWC stacks or residual).
  const layers = ((kerasConfig as { config: { layers: Record<string, unknown>[] } }).config.layers);
  const shapes = new Map<string, [number, number, number]>();
  const out: ConvShape[] = [];
  for (const l of layers) {
    const cfg = l.config as Record<string, unknown>;
    const name = String(l.name ?? cfg.name);
    const inbound = (l.inbound_nodes as unknown[][][] | undefined)?.[0]?.[0]?.[0] as string | undefined;
    const inShape = inbound ? shapes.get(inbound) : undefined;
    if (l.class_name === 'InputLayer') {
      const b = (cfg.batch_input_shape ?? cfg.batch_shape) as number[];
      shapes.set(name, [b[1]!, b[2]!, b[3]!]);
      continue;
    }
    if (!inShape) continue;
    const [h, w, c] = inShape;
    if (l.class_name === 'Conv2D' || l.class_name === 'DepthwiseConv2D') {
      const k = cfg.kernel_size as [number, number];
      const s = cfg.strides as [number, number];
      const pad = cfg.padding as 'same' | 'valid';
      const dw = l.class_name === 'DepthwiseConv2D';
      const co = dw ? c * Number(cfg.depth_multiplier ?? 1) : Number(cfg.filters);
      const oh = pad === 'same' ? Math.ceil(h / s[0]) : Math.floor((h - k[0]) / s[0]) + 1;
      const ow = pad === 'same' ? Math.ceil(w / s[1]) : Math.floor((w - k[1]) / s[1]) + 1;
      out.push({ kind: dw ? 'dw' : 'conv', x: [batch, h, w, c], f: [k[0], k[1], c, dw ? Number(cfg.depth_multiplier ?? 1) : co], s, pad });
      shapes.set(name, [oh, ow, co]);
    } else if (/Pooling2D$/.test(String(l.class_name)) && !/Global/.test(String(l.class_name))) {
      const p = (cfg.pool_size as [number, number]) ?? [2, 2];
      const s = (cfg.strides as [number, number] | null) ?? p;
      shapes.set(name, [Math.floor((h - p[0]) / s[0]) + 1, Math.floor((w - p[1]) / s[1]) + 1, c]);
    } else {
      shapes.set(name, inShape);
    }
  }
  return out;
}

/** Total time of the gradient kernels for every conv of the model: ours vs the backend's own (cpu) . */
async function kernelTotals(shapes: readonly ConvShape[], backendName: 'cpu' | 'wasm'): Promise<{ ours: number; stock: number | null; byKernel: Map<string, { ours: number; stock: number | null }> }> {
  await selectBackend({ prefer: backendName });
  const run = (name: GradientKernelName, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>, stock: boolean): number => {
    const t0 = performance.now();
    if (stock) {
      const k = referenceKernel(name, backendName)!;
      const out = k.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend: tf.backend() }) as tf.TensorInfo;
      tf.backend().readSync(out.dataId);
      tf.backend().disposeData(out.dataId);
    } else {
      const out = tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
      out.dataSync();
      out.dispose();
    }
    return performance.now() - t0;
  };
  let ours = 0;
  let stock = 0;
  let stockAvailable = true;
  const byKernel = new Map<string, { ours: number; stock: number | null }>();
  for (const c of shapes) {
    const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.pad, undefined, c.kind === 'dw');
    const dy = tf.randomNormal([c.x[0], info.outHeight, info.outWidth, info.outChannels]);
    const x = tf.randomNormal(c.x);
    const f = tf.randomNormal(c.f);
    const names: [GradientKernelName, GradientKernelName] = c.kind === 'conv' ? ['Conv2DBackpropFilter', 'Conv2DBackpropInput'] : ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'];
    const common = c.kind === 'conv' ? { strides: c.s, pad: c.pad, dataFormat: 'NHWC' } : { strides: c.s, pad: c.pad, dilations: 1 };
    const calls: [GradientKernelName, Record<string, tf.Tensor>, Record<string, unknown>][] = [
      [names[0], { x, dy }, { ...common, filterShape: c.f }],
      [names[1], { dy, filter: f }, { ...common, inputShape: c.x }],
    ];
    for (const [name, inputs, attrs] of calls) {
      const o = run(name, inputs, attrs, false);
      ours += o;
      const k = byKernel.get(name) ?? { ours: 0, stock: 0 };
      k.ours += o;
      if (referenceKernel(name, backendName)) {
        const st = run(name, inputs, attrs, true);
        stock += st;
        if (k.stock !== null) k.stock += st;
      } else {
        stockAvailable = false;
        k.stock = null;
      }
      byKernel.set(name, k);
    }
    tf.dispose([dy, x, f]);
  }
  return { ours, stock: stockAvailable ? stock : null, byKernel };
}

/**
 * Median step time of the tfjs engine in a fresh process with a given wasm thread count; fastPaths false also
 * puts back the gradient formulations of the first engine (Conv2DBackpropFilter and depthwise filter gradients
 * as convolutions), so the figure is the engine as it was before the fast paths.
 */
function childStep(modelPath: string, steps: number, batch: number, o: { threads: number; fastPaths: boolean; backend?: 'wasm' | 'tensorflow' }): number {
  const backend = o.backend ?? 'wasm';
  const script = `
    const { openModel } = require(${JSON.stringify(path.join(repoRoot, 'src/core/open'))});
    const { analyze } = require(${JSON.stringify(path.join(repoRoot, 'src/core/analysis/analyze'))});
    const { defaultFreezeConfig } = require(${JSON.stringify(path.join(repoRoot, 'src/core/analysis/freeze-config'))});
    const { buildVerifyRequest } = require(${JSON.stringify(path.join(repoRoot, 'src/core/finetune/plan'))});
    const { runTfjsVerification } = require(${JSON.stringify(path.join(repoRoot, 'src/core/finetune/tfjs/tfjs-engine'))});
    const { setFilterStrategy, setInputStrategy, setDepthwiseStrategy } = require(${JSON.stringify(path.join(repoRoot, 'src/core/finetune/kernels/register'))});
    (async () => {
      const h = await openModel(${JSON.stringify(modelPath)});
      const config = defaultFreezeConfig(${JSON.stringify(modelPath)});
      const req = buildVerifyRequest({ requestId: 'step', model: h.model, config, configPath: null, analysis: analyze(h.model, config), settings: { steps: ${steps}, batchSize: ${batch}, optimizer: 'sgd', learningRate: 0.01, seed: 1, data: { kind: 'synthetic' } } });
      await h.close();
      if (!${o.fastPaths}) { setFilterStrategy('wasm', 'conv'); setInputStrategy('wasm', 'conv'); setDepthwiseStrategy('wasm', 'conv'); }
      const r = await runTfjsVerification(req, { emit: () => {}, open: openModel, backend: { prefer: '${backend}', wasmThreads: ${o.threads}, fastPaths: ${o.fastPaths} } });
      const s = r.stepMs.slice(1).sort((a, b) => a - b);
      process.stdout.write(JSON.stringify({ median: s[Math.floor(s.length / 2)], detail: r.engineDetail }));
    })();`;
  // TF_CPP_MIN_LOG_LEVEL: tfjs-node's TensorFlow would print its start-up banners into the report.
  const res = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 1 << 20, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' }, stdio: ['ignore', 'pipe', 'pipe'] });
  return (JSON.parse(res.trim().split('\n').pop()!) as { median: number }).median;
}

/** Where a step's time goes, by kernel family: each kernel's exclusive time (nested kernels subtracted). */
const KERNEL_FAMILIES: [string, RegExp][] = [
  ['xnnpackProducts', /^(BatchMatMul|_FusedMatMul|FusedConv2D|Conv2D|DepthwiseConv2dNative|FusedDepthwiseConv2D)$/],
  ['convGradients', /^(Conv2DBackprop|DepthwiseConv2dNativeBackprop)/],
  ['batchNorm', /^FIBatchNorm/],
];

/**
 * Runs the engine in this process (wasm backend already selected) with every wasm kernel wrapped in a timer, and
 * returns ms per step by family for steps 3..steps (the wrappers add a little time of their own).
 */
async function stepBreakdown(req: VerifyRequest, steps: number): Promise<Record<string, number>> {
  const originals = tf.getKernelsForBackend('wasm');
  const byFamily = new Map<string, number>();
  const stack: { child: number }[] = [];
  let on = false;
  for (const k of originals) {
    const family = KERNEL_FAMILIES.find(([, re]) => re.test(k.kernelName))?.[0] ?? 'otherKernels';
    const f = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        if (!on) return f(args);
        const frame = { child: 0 };
        stack.push(frame);
        const t0 = performance.now();
        try {
          return f(args);
        } finally {
          const dt = performance.now() - t0;
          stack.pop();
          if (stack.length > 0) stack[stack.length - 1]!.child += dt;
          byFamily.set(family, (byFamily.get(family) ?? 0) + dt - frame.child);
        }
      },
    });
  }
  try {
    let seen = 0;
    const r = await runTfjsVerification(req, {
      emit: (e) => {
        if (e.type !== 'step') return;
        seen++;
        if (seen === 2) on = true;
        if (seen === steps) on = false;
      },
      open: openModel,
      backend: { prefer: 'wasm' },
    });
    const measured = steps - 2;
    const stepTotal = r.stepMs.slice(2).reduce((a, b) => a + b, 0);
    const kernels = [...byFamily.values()].reduce((a, b) => a + b, 0);
    const out: Record<string, number> = { stepMs: stepTotal / measured };
    for (const [name] of [...KERNEL_FAMILIES, ['otherKernels']]) out[name!] = (byFamily.get(name!) ?? 0) / measured;
    out.outsideKernels = (stepTotal - kernels) / measured;
    return out;
  } finally {
    for (const k of originals) {
      tf.unregisterKernel(k.kernelName, 'wasm');
      tf.registerKernel(k);
    }
  }
}

/** Matrix products the comparison rests on: the model's commonest pointwise-convolution product and a large square one. */
const GEMM_SHAPES: [number, number, number][] = [[1152, 128, 128], [512, 512, 512]];

/** Median ms of tfjs's matMul (wasm backend, XNNPACK) for each GEMM_SHAPES entry, in a fresh process (threads are per process). */
function tfjsGemm(threads: number): number[] {
  const script = `
    const tf = require('@tensorflow/tfjs-core');
    const { selectBackend } = require(${JSON.stringify(path.join(repoRoot, 'src/core/finetune/tfjs/backend'))});
    (async () => {
      await selectBackend({ prefer: 'wasm', wasmThreads: ${threads} });
      const res = ${JSON.stringify(GEMM_SHAPES)}.map(([m, k, n]) => {
        const a = tf.randomNormal([m, k]);
        const b = tf.randomNormal([k, n]);
        const ts = [];
        for (let i = 0; i < 25; i++) {
          const t0 = performance.now();
          const c = tf.matMul(a, b);
          c.dataSync();
          ts.push(performance.now() - t0);
          c.dispose();
        }
        const s = ts.slice(5).sort((x, y) => x - y);
        return s[Math.floor(s.length / 2)];
      });
      process.stdout.write(JSON.stringify(res));
    })();`;
  const res = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(res.trim().split('\n').pop()!) as number[];
}

/** The same products in real TensorFlow (tf.function, result fetched), with a given intra-op thread count. */
function tensorflowGemm(threads: number): number[] {
  const script = [
    'import json, time, tensorflow as tf',
    `shapes = ${JSON.stringify(GEMM_SHAPES)}`,
    'res = []',
    'for m, k, n in shapes:',
    '    a = tf.random.normal([m, k]); b = tf.random.normal([k, n]); f = tf.function(lambda a, b: tf.matmul(a, b))',
    '    ts = []',
    '    for i in range(25):',
    '        t0 = time.perf_counter(); f(a, b).numpy(); ts.append((time.perf_counter() - t0) * 1000)',
    '    ts = sorted(ts[5:]); res.append(ts[len(ts) // 2])',
    'print(json.dumps(res))',
  ].join('\n');
  const env = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', TF_NUM_INTRAOP_THREADS: String(threads), TF_NUM_INTEROP_THREADS: '1' };
  const outText = execFileSync(tfPython, ['-c', script], { encoding: 'utf8', env, maxBuffer: 1 << 20 });
  return JSON.parse(outText.trim().split('\n').pop()!) as number[];
}

/** Peak RSS of a fresh process that runs the verification in the worker thread. */
function workerPeakRss(modelPath: string, steps: number, batch: number): { peakMb: number; baselineMb: number } {
  const script = `
    const { openModel } = require(${JSON.stringify(path.join(repoRoot, 'src/core/open'))});
    const { analyze } = require(${JSON.stringify(path.join(repoRoot, 'src/core/analysis/analyze'))});
    const { defaultFreezeConfig } = require(${JSON.stringify(path.join(repoRoot, 'src/core/analysis/freeze-config'))});
    const { buildVerifyRequest } = require(${JSON.stringify(path.join(repoRoot, 'src/core/finetune/plan'))});
    const { TfjsWorkerEngine, locateWorker } = require(${JSON.stringify(path.join(repoRoot, 'src/core/finetune/engine'))});
    (async () => {
      const baseline = process.resourceUsage().maxRSS;
      const h = await openModel(${JSON.stringify(modelPath)});
      const config = defaultFreezeConfig(${JSON.stringify(modelPath)});
      const req = buildVerifyRequest({ requestId: 'rss', model: h.model, config, configPath: null, analysis: analyze(h.model, config), settings: { steps: ${steps}, batchSize: ${batch}, optimizer: 'sgd', learningRate: 0.01, seed: 1, data: { kind: 'synthetic' } } });
      await h.close();
      await new TfjsWorkerEngine(locateWorker()).run(req, () => {});
      process.stdout.write(JSON.stringify({ baseline, peak: process.resourceUsage().maxRSS }));
    })();`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 1 << 20 });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { baseline: number; peak: number };
  return { peakMb: r.peak / 1024, baselineMb: r.baseline / 1024 };
}

export async function benchFinetune(): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = { machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, load ${os.loadavg()[0]!.toFixed(1)}` };
  if (!existsSync(mobilenet)) return { ...out, skipped: `${mobilenet} absent` };
  const batch = 32;
  const steps = 12;
  // Rounds of (engine, TensorFlow, TensorFlow on one thread), each in a fresh process: this machine's speed drifts
  // by 30% over minutes, so each ratio is taken within a round and the rounds' median and range are reported.
  const rounds = 3;

  // tfjs engine (wasm + our kernels), MobileNet-size model: the product's default in this process, then in fresh
  // processes with 1 and 2 wasm threads and without the fast paths (the thread count is fixed per process).
  const req = await request(mobilenet, steps, batch);
  const js = await runTfjsVerification(req, { emit: () => {}, open: openModel, backend: { prefer: 'wasm' } });
  const jsStep = median(js.stepMs.slice(1));
  out.model = `vww_96.h5 MobileNet (${req.modelVariables.reduce((a, v) => a + v.shape.reduce((p, d) => p * d, 1), 0)} params), batch ${batch}, ${steps} steps (medians of steps 2..${steps})`;
  out.tfjsWasmStepMs = jsStep;
  out.tfjsWasmDetail = js.engineDetail;
  out.tfjsTimeToFirstStepMs = js.timeToFirstStepMs;
  const parts = await stepBreakdown(req, steps);
  out.stepBreakdownMsPerStep = Object.entries(parts)
    .map(([k, v]) => `${k} ${v.toFixed(1)}${k === 'stepMs' ? '' : ` (${((100 * v) / parts.stepMs!).toFixed(0)}%)`}`)
    .join(', ');
  const twoThreads = childStep(mobilenet, steps, batch, { threads: 2, fastPaths: true });
  const before = childStep(mobilenet, steps, batch, { threads: 1, fastPaths: false });

  const haveTf = existsSync(tfPython);
  // The optional accelerator (npm run build:tfjs-node): the same engine on TensorFlow's own kernels.
  const haveNode = tfjsNodeInstalled();
  const nodeRuns: number[] = [];
  const nodeStock = haveNode ? childStep(mobilenet, steps, batch, { threads: 1, fastPaths: false, backend: 'tensorflow' }) : NaN;
  const oneThreadRuns: number[] = [];
  const tfRuns: number[] = [];
  const tf1Runs: number[] = [];
  let tfDetail = '';
  let tfFirstStep = NaN;
  for (let r = 0; r < rounds; r++) {
    oneThreadRuns.push(childStep(mobilenet, steps, batch, { threads: 1, fastPaths: true }));
    if (haveNode) nodeRuns.push(childStep(mobilenet, steps, batch, { threads: 1, fastPaths: true, backend: 'tensorflow' }));
    if (!haveTf) continue;
    // Real TensorFlow CPU, same model, batch and data, through the Python engine: all cores, then one intra-op thread.
    const py = await new PythonEngine({ interpreter: tfPython }).run(req, () => {});
    tfRuns.push(median(py.stepMs.slice(1)));
    tfDetail = py.engineDetail;
    tfFirstStep = py.timeToFirstStepMs;
    const py1 = await new PythonEngine({ interpreter: tfPython, env: { TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' } }).run(req, () => {});
    tf1Runs.push(median(py1.stepMs.slice(1)));
  }
  const oneThread = median(oneThreadRuns);
  out.tfjsWasm1ThreadStepMs = oneThread;
  out.tfjsWasm1ThreadRoundsMs = oneThreadRuns.map((v) => v.toFixed(0)).join(' / ');
  out.tfjsWasm2ThreadsStepMs = twoThreads;
  out.tfjsWasmWithoutFastPathsStepMs = before;
  out.fastPathsSpeedup = before / oneThread;
  out.twoThreadsSpeedup = oneThread / twoThreads;

  if (haveTf) {
    const ratios = oneThreadRuns.map((v, i) => v / tfRuns[i]!);
    const ratios1 = oneThreadRuns.map((v, i) => v / tf1Runs[i]!);
    const range = (xs: number[]): string => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;
    out.tensorflowCpuStepMs = median(tfRuns);
    out.tensorflowCpuRoundsMs = tfRuns.map((v) => v.toFixed(0)).join(' / ');
    out.tensorflowDetail = tfDetail;
    out.tensorflowTimeToFirstStepMs = tfFirstStep;
    out.tfjsOverTensorflowRatio = median(ratios);
    out.tfjsOverTensorflowRatioRange = range(ratios);
    out.tfjsInProcessOverTensorflowRatio = jsStep / median(tfRuns);
    out.tfjs2ThreadsOverTensorflowRatio = twoThreads / median(tfRuns);
    if (haveNode) {
      const nodeRatios = nodeRuns.map((v, i) => v / tfRuns[i]!);
      out.tfjsNodeStepMs = median(nodeRuns);
      out.tfjsNodeRoundsMs = nodeRuns.map((v) => v.toFixed(0)).join(' / ');
      out.tfjsNodeWithoutFastPathsStepMs = nodeStock;
      out.tfjsNodeFastPathsSpeedup = nodeStock / median(nodeRuns);
      out.tfjsNodeOverTensorflowRatio = median(nodeRatios);
      out.tfjsNodeOverTensorflowRatioRange = range(nodeRatios);
    } else {
      out.tfjsNode = 'not built (npm run build:tfjs-node): the engine on TensorFlow kernels is not measured';
    }
    // Per core: TensorFlow limited to one intra-op thread against the engine's one thread.
    out.tensorflowCpu1ThreadStepMs = median(tf1Runs);
    out.tensorflowCpu1ThreadRoundsMs = tf1Runs.map((v) => v.toFixed(0)).join(' / ');
    out.tfjsOverTensorflow1ThreadRatio = median(ratios1);
    out.tfjsOverTensorflow1ThreadRatioRange = range(ratios1);
    // The ceiling: how much slower XNNPACK's wasm matrix product (128-bit SIMD, separate multiply and add) is than
    // TensorFlow's (oneDNN, the machine's widest vectors with fused multiply-add). A step made mostly of such
    // products cannot get closer to TensorFlow than this.
    for (const threads of [1, 2]) {
      const js = tfjsGemm(threads);
      const py = tensorflowGemm(threads);
      GEMM_SHAPES.forEach(([m, k, n], i) => {
        const tag = `${m}x${k}x${n}`;
        out[`gemm${tag}Tfjs${threads}tMs`] = js[i]!;
        out[`gemm${tag}Tensorflow${threads}tMs`] = py[i]!;
        out[`gemm${tag}TfjsOverTensorflow${threads}t`] = js[i]! / py[i]!;
      });
    }
    out.gemmGflopsNote = GEMM_SHAPES.map(([m, k, n]) => `${m}x${k}x${n}: ${(2 * m * k * n / 1e6 / (out[`gemm${m}x${k}x${n}Tfjs1tMs`] as number)).toFixed(1)} GFLOP/s tfjs vs ${(2 * m * k * n / 1e6 / (out[`gemm${m}x${k}x${n}Tensorflow1tMs`] as number)).toFixed(1)} TF, 1 thread`).join('; ');
  } else {
    out.tensorflowCpuStepMs = `skipped: ${tfPython} absent`;
  }

  // A second architecture: ResNet8 (3x3 convolutions over 16-64 channels), the engine against TensorFlow once.
  if (existsSync(resnet)) {
    const rReq = await request(resnet, steps, batch);
    out.resnet8WasmStepMs = childStep(resnet, steps, batch, { threads: 1, fastPaths: true });
    out.resnet8WasmWithoutFastPathsStepMs = childStep(resnet, steps, batch, { threads: 1, fastPaths: false });
    if (haveTf) {
      const py = await new PythonEngine({ interpreter: tfPython }).run(rReq, () => {});
      out.resnet8TensorflowCpuStepMs = median(py.stepMs.slice(1));
      out.resnet8TfjsOverTensorflowRatio = (out.resnet8WasmStepMs as number) / (out.resnet8TensorflowCpuStepMs as number);
    }
  }

  // Stock tfjs vs our kernels on the model's own conv shapes (batch 8: the stock cpu loops are slow).
  const h = await openModel(mobilenet);
  const shapes = convShapes(h.model.kerasConfig, 8);
  await h.close();
  const cpu = await kernelTotals(shapes, 'cpu');
  out.gradKernelsCpuStockMs = cpu.stock ?? 'n/a';
  out.gradKernelsCpuOursMs = cpu.ours;
  out.gradKernelsCpuStockOverOurs = cpu.stock ? cpu.stock / cpu.ours : 'n/a';
  const wasm = await kernelTotals(shapes, 'wasm');
  out.gradKernelsWasmOursMs = wasm.ours;
  const bpi = wasm.byKernel.get('Conv2DBackpropInput');
  if (bpi?.stock) {
    out.wasmConv2DBackpropInputStockMs = bpi.stock;
    out.wasmConv2DBackpropInputOursMs = bpi.ours;
    out.wasmConv2DBackpropInputStockOverOurs = bpi.stock / bpi.ours;
  }
  out.gradKernelsWasmStock = 'missing: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter / depthwise gradient kernels (no conv training at all)';

  // Whole training step on the cpu backend, stock kernels vs ours (ResNet8, batch 8).
  if (existsSync(resnet)) {
    const r = await request(resnet, 3, 8);
    await selectBackend({ prefer: 'cpu' });
    unregisterGradientKernels('cpu');
    const stockRun = await runTfjsVerification(r, { emit: () => {}, open: openModel, backend: { prefer: 'cpu', keepStockKernels: true } });
    registerGradientKernels('cpu');
    const oursRun = await runTfjsVerification(r, { emit: () => {}, open: openModel, backend: { prefer: 'cpu' } });
    out.resnet8CpuStepStockMs = median(stockRun.stepMs.slice(1));
    out.resnet8CpuStepOursMs = median(oursRun.stepMs.slice(1));
    out.resnet8CpuStockOverOurs = (out.resnet8CpuStepStockMs as number) / (out.resnet8CpuStepOursMs as number);
  }

  const rss = workerPeakRss(mobilenet, 3, batch);
  out.workerProcessPeakRssMb = rss.peakMb;
  out.workerProcessBaselineRssMb = rss.baselineMb;
  return out;
}

if (require.main === module) {
  benchFinetune().then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

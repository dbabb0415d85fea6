// "Extract Freeze Config from This Script" and the offer to link a script to the model it loads.
// The decisions (where the pragma goes, the config's name and place, the relative paths, the runtime, the
// message texts) are plain functions over the core's script model; the VS Code part below only asks, edits
// and shows. The vscode API is handed in by python-features.ts instead of imported, so this module loads in
// plain Node and the unit tests call its functions without VS Code.
import type * as vscode from 'vscode';
import * as path from 'node:path';
import type { FreezeConfig, Runtime } from '../core/analysis/types';
import type { ScriptAnalysis } from '../core/python/analyze';
import type { ScriptModel } from '../core/python/idioms';
import type { RuntimeGuess } from '../core/python/types';
import { findModelLink, linkSuggestions } from '../core/python/link';
import type { AnalysisService } from './analysis-service';
import { COMMANDS } from './command-ids';
import { loadAnalysisApi } from './core-api';
import type { Logger } from './log';
import type { ModelService } from './model-service';

// ---------------------------------------------------------------------------------------------------------
// Pure parts

/** A shebang, or a PEP 263 encoding declaration: lines that must stay first. */
const CODING = /^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+/;

/** Path from `fromDir` to `target` as configs and pragmas write it: forward slashes, './' below fromDir. */
export function relativeLinkPath(fromDir: string, target: string): string {
  const rel = path.relative(fromDir, target);
  // another drive: no relative path exists
  if (path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  const posix = rel.split(path.sep).join('/');
  if (posix === '') return '.';
  return posix === '..' || posix.startsWith('../') ? posix : `./${posix}`;
}

/** The pragma comment that links a script to a model (quoted when the path has spaces or quotes). */
export function pragmaComment(modelRel: string): string {
  const value = /[\s"']/.test(modelRel) ? (modelRel.includes('"') ? `'${modelRel}'` : `"${modelRel}"`) : modelRel;
  return `# freeze-inspector: model=${value}`;
}

/**
 * Where the pragma goes in `src`: the first line, or after a shebang and an encoding declaration (which
 * Python reads only on the first two lines, so they must not move down). `text` includes the line break.
 */
export function pragmaInsertion(src: string, modelRel: string): { readonly offset: number; readonly text: string } {
  const eol = src.includes('\r\n') ? '\r\n' : '\n';
  const pragma = pragmaComment(modelRel);
  const lines: { text: string; next: number | null }[] = [];
  for (let at = 0, i = 0; i < 2 && at <= src.length; i++) {
    const nl = src.indexOf('\n', at);
    lines.push({ text: src.slice(at, nl < 0 ? src.length : nl).replace(/\r$/, ''), next: nl < 0 ? null : nl + 1 });
    if (nl < 0) break;
    at = nl + 1;
  }
  const [first, second] = lines;
  let keep = 0;
  if (first && (first.text.startsWith('#!') || CODING.test(first.text))) keep = 1;
  // an encoding declaration on line 2 counts only after a comment or blank line 1 (PEP 263)
  if (second && CODING.test(second.text) && /^\s*(#.*)?$/.test(first!.text)) keep = 2;
  if (keep === 0) return { offset: 0, text: pragma + eol };
  const last = lines[keep - 1]!;
  // a header line without a line break ends the file: break it first
  return last.next === null ? { offset: src.length, text: eol + pragma } : { offset: last.next, text: pragma + eol };
}

/** The model folder of a SavedModel named by its saved_model.pb(txt); any other path as it is. */
export function modelRoot(modelPath: string): string {
  return /^saved_model\.pb(txt)?$/.test(path.basename(modelPath)) ? path.dirname(modelPath) : modelPath;
}

function isInside(dir: string, root: string): boolean {
  const rel = path.relative(root, dir);
  return rel === '' || (!path.isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${path.sep}`));
}

/**
 * The config a script's extraction writes: `<script stem>.freeze.json` next to the script, except when the
 * script sits inside the SavedModel folder it trains (TensorFlow's folder: nothing of ours goes in it), where
 * the config goes beside that folder.
 */
export function configPathFor(scriptPath: string, modelPath: string): string {
  const root = modelRoot(modelPath);
  let dir = path.dirname(scriptPath);
  const isFile = /\.(h5|hdf5|keras|meta)$/i.test(root);
  if (!isFile && isInside(dir, root)) dir = path.dirname(root);
  const stem = path.basename(scriptPath).replace(/\.pyw?$/i, '');
  return path.join(dir, `${stem}.freeze.json`);
}

/**
 * The runtime a linked script trains with. The script says which family it is (TF1 graph or Keras: its idioms are
 * what the analysis and the extraction read), so a certain answer (a pragma, a config, the setting) or a
 * different family in the model keeps the script's. The model fills in what the script leaves open: the runtime
 * when the script gives no clue, and tf2-keras vs keras3 from the versions the model recorded.
 */
export function linkedRuntime(script: RuntimeGuess, model: Runtime | null): Runtime | null {
  if (!script.runtime) return model;
  if (!model || script.source === 'pragma' || script.source === 'setting') return script.runtime;
  const keras = (r: Runtime) => r === 'tf2-keras' || r === 'keras3';
  return keras(script.runtime) && keras(model) ? model : script.runtime;
}

export interface ExtractedConfigFile {
  readonly configPath: string;
  readonly config: FreezeConfig;
  readonly text: string;
  readonly unresolved: readonly string[];
}

/** The config file's content: model and script relative to the config, so the script stays linked. */
export async function buildExtractedConfig(m: ScriptModel, opts: { readonly scriptPath: string; readonly modelPath: string; readonly runtime: Runtime | null }): Promise<ExtractedConfigFile> {
  const { extractFreezeConfig } = await import('../core/python/extract-config');
  const configPath = configPathFor(opts.scriptPath, opts.modelPath);
  const dir = path.dirname(configPath);
  const { config, unresolved } = extractFreezeConfig(m, {
    modelPath: relativeLinkPath(dir, modelRoot(opts.modelPath)),
    scriptPath: relativeLinkPath(dir, opts.scriptPath),
    runtime: opts.runtime,
  });
  // "verify": null is how the extractor says "none", but a config file says it by leaving the key out
  const { verify, ...rest } = config;
  return { configPath, config, text: `${JSON.stringify(verify ? config : rest, null, 2)}\n`, unresolved };
}

export interface LinkCandidate {
  /** The path as the script writes it. */
  readonly literal: string;
  readonly loader: string;
  /** 0-based line of the call. */
  readonly line: number;
}

/** `tf.compat.v1.saved_model.loader.load(sess, tags, export_dir)`: the TF1 loader takes the path third. */
const TF1_LOADERS = new Set(['tf.saved_model.loader.load', 'tf.saved_model.load']);

/**
 * Literal model paths the script loads, in script order: the core's suggestions (load_model,
 * saved_model.load, import_meta_graph), plus the TF1 loader's export_dir, which the core does not list yet.
 */
export function linkCandidates(m: ScriptModel, scriptPath: string): LinkCandidate[] {
  const out: (LinkCandidate & { s: number })[] = [];
  const suggested = new Set(linkSuggestions(m, scriptPath).map((s) => `${s.range.start.line}:${s.range.start.character}`));
  for (const p of m.keras.loadPaths) {
    const at = m.range(p.expr.s, p.expr.e).start;
    if (suggested.has(`${at.line}:${at.character}`)) out.push({ literal: p.path, loader: p.loader, line: at.line, s: p.expr.s });
  }
  for (const f of m.facts) {
    if (f.kind !== 'call') continue;
    const canon = m.names.canon(f.call.callee);
    if (!canon || !TF1_LOADERS.has(canon)) continue;
    const e = f.call.kwargs.find((k) => k.name === 'export_dir')?.value ?? (f.call.args.length >= 3 ? f.call.args[2] : undefined);
    if (!e || e.k !== 'str' || e.fstring || out.some((o) => o.s === e.s)) continue;
    out.push({ literal: e.value, loader: canon, line: m.range(e.s, e.e).start.line, s: e.s });
  }
  return out.sort((a, b) => a.s - b.s).map(({ literal, loader, line }) => ({ literal, loader, line }));
}

/**
 * Where a literal path may point, most likely first: relative to the script (as the pragma resolves it), then
 * relative to each workspace folder (scripts are often run from the repository root). URLs are not models on disk.
 */
export function candidatePaths(literal: string, scriptPath: string, roots: readonly string[]): string[] {
  if (literal === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(literal)) return [];
  if (path.isAbsolute(literal)) return [path.normalize(literal)];
  return [...new Set([path.dirname(scriptPath), ...roots].map((d) => path.resolve(d, literal)))];
}

export function linkOfferMessage(scriptPath: string, modelRel: string): string {
  return `Link ${path.basename(scriptPath)} to model ${modelRel}?`;
}

export function extractedMessage(configPath: string, scriptPath: string, runtime: string, unresolved: readonly string[]): string {
  const head = `Freeze Inspector: wrote ${path.basename(configPath)} from ${path.basename(scriptPath)} (runtime ${runtime}).`;
  if (unresolved.length === 0) return head;
  const n = unresolved.length;
  return `${head} ${n} thing${n === 1 ? '' : 's'} the config cannot express: ${unresolved[0]}${n > 1 ? ` (and ${n - 1} more in the log)` : ''}.`;
}

// ---------------------------------------------------------------------------------------------------------
// VS Code part

export interface ScriptCommandDeps {
  readonly models: ModelService;
  readonly analyses: AnalysisService;
  readonly log: Logger;
  /** The current analysis of an open script; undefined when it does not use TensorFlow/Keras or failed. */
  analysisOf(doc: vscode.TextDocument): Promise<ScriptAnalysis | undefined>;
}

export interface ScriptCommands {
  /** Offers to link the document to the model it loads, once per file per session (visible, unlinked scripts only). */
  offerLink(doc: vscode.TextDocument): void;
  /** The runtime a model's format and versions imply; null when it cannot be opened. */
  modelRuntime(modelPath: string): Promise<Runtime | null>;
}

const LINK = 'Link';
const NOT_NOW = 'Not now';

export function registerScriptCommands(vs: typeof vscode, context: vscode.ExtensionContext, deps: ScriptCommandDeps): ScriptCommands {
  const { models, analyses, log } = deps;
  const offered = new Set<string>();
  const checking = new Set<string>();

  const exists = (p: string) => vs.workspace.fs.stat(vs.Uri.file(p)).then(
    () => true,
    () => false,
  );
  const configs = async () => (await analyses.listConfigs()).filter((c) => c.parsed.config).map((c) => ({ path: c.uri.fsPath, config: c.parsed.config! }));

  async function offerLink(doc: vscode.TextDocument): Promise<void> {
    const key = doc.uri.toString();
    if (offered.has(key) || checking.has(key) || doc.languageId !== 'python' || doc.uri.scheme !== 'file') return;
    // documents opened in the background (diff views, other extensions) are not the user's to answer for
    if (!vs.window.visibleTextEditors.some((e) => e.document === doc)) return;
    checking.add(key);
    try {
      const analysis = await deps.analysisOf(doc);
      if (!analysis) return;
      const scriptPath = doc.uri.fsPath;
      if (findModelLink(analysis.model, scriptPath, await configs())) return;
      const roots = vs.workspace.workspaceFolders?.map((f) => f.uri.fsPath) ?? [];
      let target: string | undefined;
      search: for (const c of linkCandidates(analysis.model, scriptPath)) {
        for (const p of candidatePaths(c.literal, scriptPath, roots)) {
          if (await exists(p)) {
            target = modelRoot(p);
            break search;
          }
        }
      }
      // nothing on disk yet: a later edit may still load one, so the file is not marked as offered
      if (!target) return;
      offered.add(key);
      const rel = relativeLinkPath(path.dirname(scriptPath), target);
      const choice = await vs.window.showInformationMessage(linkOfferMessage(scriptPath, rel), LINK, NOT_NOW);
      // the answer may come after the script was linked another way (a pragma typed meanwhile)
      if (choice !== LINK || /#\s*freeze-inspector\s*:.*\bmodel\s*=/.test(doc.getText())) return;
      const at = pragmaInsertion(doc.getText(), rel);
      const we = new vs.WorkspaceEdit();
      we.insert(doc.uri, doc.positionAt(at.offset), at.text);
      if (!(await vs.workspace.applyEdit(we))) throw new Error(`could not edit ${scriptPath}`);
      log.info(`linked ${scriptPath} to ${target} (${pragmaComment(rel)})`);
    } catch (e) {
      log.warn(`link offer for ${doc.uri.fsPath} failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      checking.delete(key);
    }
  }

  async function pickModel(scriptName: string): Promise<string | undefined> {
    const list = await models.list();
    const browse = { label: '$(folder-opened) Browse…', description: 'a SavedModel folder or a .pb, .meta, .h5 or .keras file', key: undefined as string | undefined };
    if (list.length) {
      const pick = await vs.window.showQuickPick([...list.map((e) => ({ label: e.label, description: vs.workspace.asRelativePath(e.key), key: e.key as string | undefined })), browse], {
        placeHolder: `${scriptName} is not linked to a model: which model does it train?`,
        matchOnDescription: true,
      });
      if (!pick) return undefined;
      if (pick.key) return pick.key;
    }
    const chosen = await vs.window.showOpenDialog({
      canSelectFiles: true,
      canSelectFolders: true,
      canSelectMany: false,
      title: `Which model does ${scriptName} train?`,
      filters: { Models: ['pb', 'pbtxt', 'meta', 'h5', 'keras'] },
    });
    return chosen?.[0] ? modelRoot(chosen[0].fsPath) : undefined;
  }

  /** The runtime the model's format and versions imply (null when it does not open: the script's guess then). */
  async function modelRuntime(modelPath: string): Promise<Runtime | null> {
    const pb = path.join(modelPath, 'saved_model.pb');
    const pbtxt = path.join(modelPath, 'saved_model.pbtxt');
    const file = (await exists(pb)) ? pb : (await exists(pbtxt)) ? pbtxt : modelPath;
    const entry = models.get(modelPath) ?? models.entryFor(vs.Uri.file(file));
    if (!entry) return null;
    try {
      const handle = await models.open(entry);
      return (await loadAnalysisApi()).resolveRuntime(handle.model, { runtime: 'auto' }).runtime;
    } catch (e) {
      log.warn(`cannot open ${modelPath} for its runtime (the script's own guess stays): ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
  }

  async function extractConfig(arg?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const doc = arg instanceof vs.Uri ? await vs.workspace.openTextDocument(arg) : vs.window.activeTextEditor?.document;
    if (!doc || doc.languageId !== 'python') {
      void vs.window.showInformationMessage('Freeze Inspector: open a Python training script to extract its freeze config.');
      return undefined;
    }
    const scriptPath = doc.uri.fsPath;
    const scriptName = path.basename(scriptPath);
    const analysis = await deps.analysisOf(doc);
    if (!analysis) {
      void vs.window.showInformationMessage(`Freeze Inspector: ${scriptName} does not use TensorFlow or Keras: there is no freeze config to extract.`);
      return undefined;
    }
    const link = findModelLink(analysis.model, scriptPath, await configs());
    const modelPath = link ? modelRoot(link.modelPath) : await pickModel(scriptName);
    if (!modelPath) return undefined;
    const runtime = linkedRuntime(analysis.model.runtime, await modelRuntime(modelPath));
    const out = await buildExtractedConfig(analysis.model, { scriptPath, modelPath, runtime });
    const uri = vs.Uri.file(out.configPath);
    const name = path.basename(out.configPath);

    const we = new vs.WorkspaceEdit();
    if (await exists(out.configPath)) {
      const overwrite = 'Overwrite';
      const answer = await vs.window.showWarningMessage(`${name} already exists. Replace it with the config extracted from ${scriptName}?`, { modal: true }, overwrite);
      if (answer !== overwrite) return undefined;
      // a text edit of the open file, so Undo brings the old config back
      const old = await vs.workspace.openTextDocument(uri);
      we.replace(uri, new vs.Range(old.positionAt(0), old.positionAt(old.getText().length)), out.text);
    } else {
      we.createFile(uri, { ignoreIfExists: false });
      we.insert(uri, new vs.Position(0, 0), out.text);
    }
    if (!(await vs.workspace.applyEdit(we))) throw new Error(`could not write ${out.configPath}`);
    const configDoc = await vs.workspace.openTextDocument(uri);
    // saved, so the config list, the tree and the CLI read the same config
    await configDoc.save();
    await vs.window.showTextDocument(configDoc, { preview: false });

    log.info(`extracted ${out.configPath} from ${scriptPath} (model ${modelPath}${link ? `, linked by ${link.source}` : ', picked'}; runtime ${out.config.runtime})`);
    for (const u of out.unresolved) log.warn(`${name}: not expressed: ${u}`);
    const message = extractedMessage(out.configPath, scriptPath, out.config.runtime, out.unresolved);
    if (out.unresolved.length) {
      const show = 'Show Log';
      void vs.window.showWarningMessage(message, show).then((c) => c === show && log.show());
    } else void vs.window.showInformationMessage(message);
    return uri;
  }

  context.subscriptions.push(
    vs.commands.registerCommand(COMMANDS.extractConfig, async (arg?: vscode.Uri) => {
      try {
        return await extractConfig(arg);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        log.error(`${COMMANDS.extractConfig}: ${msg}`, true);
        void vs.window.showErrorMessage(`Freeze Inspector: ${msg}`);
        return undefined;
      }
    }),
    // a script analyzed in the background is offered when it comes into view
    vs.window.onDidChangeActiveTextEditor((e) => e && void offerLink(e.document)),
  );
  return { offerLink: (doc) => void offerLink(doc), modelRuntime: (p) => modelRuntime(modelRoot(p)) };
}

// Verify by Fine-tuning: plans the run with the core (buildVerifyRequest), runs it in the fine-tune worker
// (dist/finetune-worker.js, a worker thread: the extension host never trains), streams progress into a
// cancellable notification, and shows the result in the inspector and the tree. Model files are only read.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { EngineCommand, EngineEvent, VerifyResult } from '../core/finetune/types';
import type { CommandDeps } from './commands';
import type { ModelEntry } from './model-service';
import { loadAnalysisApi } from './core-api';
import { readSettings } from './config';

export async function runVerification(deps: CommandDeps, entry: ModelEntry): Promise<VerifyResult | undefined> {
  const { analyses, inspector, tree, log } = deps;
  const analysis = await analyses.analyze(entry);
  if (!analysis.config?.parsed.config || !analysis.result) {
    const create = 'Create Freeze Config';
    if ((await vscode.window.showWarningMessage(`Freeze Inspector: ${entry.label} has no analyzed freeze config to verify.`, create)) === create) {
      await vscode.commands.executeCommand('freezeInspector.createConfig', entry.fileUri);
    }
    return undefined;
  }
  const workerFile = path.join(path.dirname(__filename), 'finetune-worker.js');
  if (!existsSync(workerFile)) throw new Error(`the fine-tune engine is not part of this build (${workerFile} is missing)`);
  const api = await loadAnalysisApi();
  const { buildVerifyRequest } = await import('../core/finetune/plan');
  const cfg = analysis.config.parsed.config;
  const settings = cfg.verify ?? { ...api.defaultVerifySettings(), steps: readSettings().verifySteps };
  const request = buildVerifyRequest({
    requestId: `verify-${Date.now()}`,
    model: analysis.model,
    config: cfg,
    configPath: analysis.config.uri.fsPath,
    analysis: analysis.result,
    settings,
  });
  log.info(`verify ${entry.key} with ${analysis.config.uri.fsPath}: ${settings.steps} steps (${cfg.verify ? 'from the config' : 'defaults'}), runtime ${request.runtime}`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Freeze Inspector: verifying ${entry.label}`, cancellable: true },
    (progress, token) =>
      new Promise<VerifyResult>((resolve, reject) => {
        const worker = new Worker(workerFile);
        const finish = () => void worker.terminate();
        token.onCancellationRequested(() => {
          worker.postMessage({ type: 'cancel', requestId: request.requestId } satisfies EngineCommand);
          setTimeout(finish, 2000);
          reject(new Error('verification cancelled'));
        });
        worker.on('error', (e) => {
          finish();
          reject(e);
        });
        worker.on('message', (ev: EngineEvent) => {
          if (ev.requestId !== request.requestId) return;
          if (ev.type === 'progress') {
            progress.report({ message: ev.message });
            inspector.showVerifying(entry.key, ev.message);
          } else if (ev.type === 'step') {
            progress.report({ message: `step ${ev.step}/${settings.steps}, loss ${ev.loss.toPrecision(4)}`, increment: 100 / settings.steps });
          } else if (ev.type === 'result') {
            finish();
            resolve(ev.result);
          } else if (ev.type === 'error') {
            finish();
            reject(new Error(`${ev.error.reason}: ${ev.error.message}`));
          }
        });
        worker.postMessage({ type: 'verify', request } satisfies EngineCommand);
      }),
  );
  tree.setDisagreements(entry.key, result.variables.filter((v) => !v.agree && v.predicted !== null).map((v) => v.key));
  inspector.setVerification(entry.key, result);
  const msg = `${entry.label}: ${result.variables.filter((v) => v.agree).length} variables agree with the prediction, ${result.disagreements} disagree (${result.steps} steps, ${result.engine}).`;
  log.info(`verify done: ${msg}`);
  void vscode.window.showInformationMessage(`Freeze Inspector: ${msg}`);
  return result;
}

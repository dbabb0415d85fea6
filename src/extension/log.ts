// The extension's one log: a LogOutputChannel behind a small interface, so features take a Logger and tests
// or other hosts can hand in anything that logs.
import * as vscode from 'vscode';

export interface Logger {
  trace(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  /** Logs the error; `reveal` also shows the channel (for errors the user asked for, e.g. a failed command). */
  error(message: string | Error, reveal?: boolean): void;
  show(): void;
}

export function createLogger(context: vscode.ExtensionContext): Logger {
  const channel = vscode.window.createOutputChannel('Freeze Inspector', { log: true });
  context.subscriptions.push(channel);
  return {
    trace: (m) => channel.trace(m),
    info: (m) => channel.info(m),
    warn: (m) => channel.warn(m),
    error: (m, reveal = false) => {
      channel.error(m);
      if (reveal) channel.show(true);
    },
    show: () => channel.show(),
  };
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// package.json's contributions (written by src/extension/manifest.mjs) against the code: every command link in
// the walkthrough and the welcome views names a command that exists, every walkthrough media file is there,
// and every contributed command is registered by the extension (and the other way round).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { COMMANDS, VIEWS } from '../../../src/extension/command-ids';

const repoRoot = path.resolve(__dirname, '../../..');
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
const contributed = new Set<string>(pkg.contributes.commands.map((c: { command: string }) => c.command));
/** Built-in VS Code commands the links may use. */
const BUILTIN = new Set(['workbench.actions.view.problems', 'workbench.action.openWalkthrough']);

function commandLinks(text: string): string[] {
  return [...text.matchAll(/\]\(command:([\w.]+)/g)].map((m) => m[1]!);
}

function exists(id: string): boolean {
  if (contributed.has(id) || BUILTIN.has(id)) return true;
  // Every contributed view has a "<view id>.focus" command.
  return Object.values(VIEWS).some((v) => id === `${v}.focus`);
}

test('walkthrough: steps have a title, existing media, and only command links that exist', () => {
  const [w] = pkg.contributes.walkthroughs;
  assert.equal(w.id, 'freezeInspector.start');
  assert.ok(w.steps.length >= 4, `${w.steps.length} steps`);
  const links: string[] = [];
  for (const s of w.steps) {
    assert.ok(s.title && s.description, s.id);
    const media = s.media.markdown ?? s.media.image;
    assert.ok(existsSync(path.join(repoRoot, media)), `${s.id}: ${media} is missing`);
    links.push(...commandLinks(s.description));
  }
  assert.ok(links.includes(COMMANDS.verify) && links.includes(COMMANDS.analyze), links.join(', '));
  for (const id of links) assert.ok(exists(id), `walkthrough links to ${id}, which no one registers`);
  for (const e of w.steps.flatMap((s: { completionEvents?: string[] }) => s.completionEvents ?? [])) {
    const [kind, arg] = e.split(':');
    if (kind === 'onCommand') assert.ok(exists(arg), e);
    if (kind === 'onView') assert.ok((Object.values(VIEWS) as string[]).includes(arg!), e);
  }
});

test('welcome views link to existing commands, and the Get Started link names this walkthrough', () => {
  for (const v of pkg.contributes.viewsWelcome) for (const id of commandLinks(v.contents)) assert.ok(exists(id), `${v.view}: ${id}`);
  const getStarted = pkg.contributes.viewsWelcome.map((v: { contents: string }) => v.contents).join('\n');
  assert.ok(getStarted.includes(encodeURIComponent(JSON.stringify(`${pkg.publisher}.${pkg.name}#${pkg.contributes.walkthroughs[0].id}`))), 'Get Started link');
});

test('contributed commands = command-ids.ts = the commands registered in code', () => {
  assert.deepEqual([...contributed].sort(), Object.values(COMMANDS).sort());
  const dir = path.join(repoRoot, 'src/extension');
  const src = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(path.join(dir, f), 'utf8')).join('\n');
  const registered = new Set<string>([...src.matchAll(/(?:reg|registerCommand)\(COMMANDS\.(\w+)/g)].map((m) => COMMANDS[m[1] as keyof typeof COMMANDS]));
  for (const id of contributed) assert.ok(registered.has(id), `${id} is contributed but never registered`);
  for (const m of pkg.contributes.menus.commandPalette) assert.ok(contributed.has(m.command), m.command);
});

test('untrusted workspaces: limited support, the interpreter setting restricted, Verify gated on trust', () => {
  const u = pkg.capabilities.untrustedWorkspaces;
  assert.equal(u.supported, 'limited');
  assert.deepEqual(u.restrictedConfigurations, ['freezeInspector.python.interpreterPath']);
  const verify = pkg.contributes.commands.find((c: { command: string }) => c.command === COMMANDS.verify);
  assert.equal(verify.enablement, 'isWorkspaceTrusted');
  for (const where of ['commandPalette', 'view/item/context']) {
    for (const m of pkg.contributes.menus[where].filter((x: { command: string }) => x.command === COMMANDS.verify)) assert.match(m.when, /isWorkspaceTrusted/, where);
  }
});

// Writes the extension's keys of package.json (contributes, activationEvents, capabilities, icon,
// galleryBanner) and leaves every other key as it is (the lead edits those). Run: node src/extension/manifest.mjs
// Command ids and settings mirror src/extension/command-ids.ts and src/extension/config.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const category = 'Freeze Inspector';
const MODEL_FILES = ['saved_model.pb', 'saved_model.pbtxt', '*.keras', '*.h5', '*.meta'];

const commands = [
  { command: 'freezeInspector.openModel', title: 'Open Model...', icon: '$(folder-opened)' },
  { command: 'freezeInspector.createConfig', title: 'Create Freeze Config', icon: '$(new-file)' },
  { command: 'freezeInspector.analyze', title: 'Analyze Freeze Config', icon: '$(search)' },
  { command: 'freezeInspector.verify', title: 'Verify by Fine-tuning', icon: '$(beaker)', enablement: 'isWorkspaceTrusted' },
  { command: 'freezeInspector.selectRuntime', title: 'Select Runtime' },
  { command: 'freezeInspector.exportReport', title: 'Export Report', icon: '$(export)' },
  { command: 'freezeInspector.showLog', title: 'Show Log', icon: '$(output)' },
  { command: 'freezeInspector.refresh', title: 'Refresh Models', icon: '$(refresh)' },
  { command: 'freezeInspector.pickConfig', title: 'Pick Active Freeze Config...', icon: '$(settings-gear)' },
  { command: 'freezeInspector.freezeLayer', title: 'Freeze Layer', icon: '$(lock)' },
  { command: 'freezeInspector.unfreezeLayer', title: 'Unfreeze Layer', icon: '$(unlock)' },
  { command: 'freezeInspector.showInInspector', title: 'Show in Inspector', icon: '$(open-preview)' },
  { command: 'freezeInspector.copyCheckpointKey', title: 'Copy Checkpoint Key', icon: '$(copy)' },
  { command: 'freezeInspector.revealFinding', title: 'Show Finding in Config' },
  { command: 'freezeInspector.extractConfig', title: 'Extract Freeze Config from This Script', icon: '$(json)', enablement: 'editorLangId == python' },
].map((c) => ({ category, ...c }));

const isConfig = 'resourceFilename =~ /\\.freeze\\.json$/';
const hasModels = 'freezeInspector.hasModels';

const contributes = {
  viewsContainers: {
    activitybar: [{ id: 'freezeInspector', title: 'Freeze Inspector', icon: 'media/activity-bar.svg' }],
  },
  views: {
    freezeInspector: [
      { id: 'freezeInspector.models', name: 'Models', icon: 'media/activity-bar.svg', contextualTitle: 'Freeze Inspector' },
      { id: 'freezeInspector.findings', name: 'Findings', contextualTitle: 'Freeze Inspector' },
    ],
  },
  viewsWelcome: [
    {
      view: 'freezeInspector.models',
      contents:
        'No TensorFlow or Keras model found in this workspace (SavedModel folders, .meta, .h5, .keras).\n[Open Model...](command:freezeInspector.openModel)\nOpen the walkthrough to try the sample model.\n[Get Started](command:workbench.action.openWalkthrough?%22freeze-inspector.freeze-inspector%23freezeInspector.start%22)',
    },
    { view: 'freezeInspector.findings', contents: 'No findings. Findings appear here when a *.freeze.json is analyzed against its model, and for open Python training scripts that use TensorFlow or Keras.\n[Create Freeze Config](command:freezeInspector.createConfig)' },
  ],
  commands,
  menus: {
    commandPalette: [
      { command: 'freezeInspector.freezeLayer', when: 'false' },
      { command: 'freezeInspector.unfreezeLayer', when: 'false' },
      { command: 'freezeInspector.copyCheckpointKey', when: 'false' },
      { command: 'freezeInspector.showInInspector', when: 'false' },
      { command: 'freezeInspector.revealFinding', when: 'false' },
      { command: 'freezeInspector.pickConfig', when: hasModels },
      { command: 'freezeInspector.createConfig', when: hasModels },
      { command: 'freezeInspector.analyze', when: 'freezeInspector.hasConfigs' },
      { command: 'freezeInspector.exportReport', when: 'freezeInspector.hasConfigs' },
      { command: 'freezeInspector.verify', when: `${hasModels} && isWorkspaceTrusted` },
      { command: 'freezeInspector.extractConfig', when: 'editorLangId == python' },
    ],
    'view/title': [
      { command: 'freezeInspector.openModel', when: 'view == freezeInspector.models', group: 'navigation@1' },
      { command: 'freezeInspector.refresh', when: 'view == freezeInspector.models', group: 'navigation@2' },
      { command: 'freezeInspector.selectRuntime', when: 'view == freezeInspector.models', group: '1_settings' },
      { command: 'freezeInspector.showLog', when: 'view == freezeInspector.models', group: '2_log' },
    ],
    'view/item/context': [
      { command: 'freezeInspector.freezeLayer', when: 'view == freezeInspector.models && viewItem =~ /^layer\\.trainable/', group: 'inline@1' },
      { command: 'freezeInspector.unfreezeLayer', when: 'view == freezeInspector.models && viewItem =~ /^layer\\.frozen/', group: 'inline@1' },
      { command: 'freezeInspector.showInInspector', when: 'view == freezeInspector.models && viewItem =~ /^(model|layer|variable)/', group: 'inline@2' },
      { command: 'freezeInspector.copyCheckpointKey', when: 'view == freezeInspector.models && viewItem == variable', group: 'inline@1' },
      { command: 'freezeInspector.freezeLayer', when: 'view == freezeInspector.models && viewItem =~ /^layer\\.trainable/', group: '1_freeze@1' },
      { command: 'freezeInspector.unfreezeLayer', when: 'view == freezeInspector.models && viewItem =~ /^layer\\.frozen/', group: '1_freeze@2' },
      { command: 'freezeInspector.showInInspector', when: 'view == freezeInspector.models && viewItem =~ /^(model|layer|variable)/', group: '2_show@1' },
      { command: 'freezeInspector.copyCheckpointKey', when: 'view == freezeInspector.models && viewItem == variable', group: '2_show@2' },
      { command: 'freezeInspector.pickConfig', when: 'view == freezeInspector.models && viewItem == model', group: '3_config@1' },
      { command: 'freezeInspector.createConfig', when: 'view == freezeInspector.models && viewItem == model', group: '3_config@2' },
      { command: 'freezeInspector.verify', when: 'view == freezeInspector.models && viewItem == model && isWorkspaceTrusted', group: '4_verify@1' },
    ],
    'explorer/context': [
      { command: 'freezeInspector.analyze', when: isConfig, group: 'freezeInspector@1' },
      { command: 'freezeInspector.exportReport', when: isConfig, group: 'freezeInspector@2' },
    ],
    'editor/title': [{ command: 'freezeInspector.analyze', when: isConfig, group: 'navigation' }],
  },
  customEditors: [
    {
      viewType: 'freezeInspector.inspector',
      displayName: 'Freeze Inspector: Model Inspector',
      selector: MODEL_FILES.map((filenamePattern) => ({ filenamePattern })),
      priority: 'default',
    },
  ],
  jsonValidation: [{ fileMatch: '*.freeze.json', url: './schemas/freeze-config.schema.json' }],
  configuration: {
    title: 'Freeze Inspector',
    properties: {
      'freezeInspector.runtime': {
        type: 'string',
        enum: ['auto', 'tf1-graph', 'tf2-keras', 'keras3'],
        enumDescriptions: [
          'Pick the runtime from the model format and its recorded TensorFlow/Keras versions.',
          'TF1 graph semantics (tf.layers / slim / V1 Keras): freezing does not stop BatchNorm from using batch statistics.',
          'tf.keras 2.x (TF 2.0 to 2.15) / tf_keras: a frozen BatchNorm runs in inference mode.',
          'Keras 3 (TF 2.16+): a frozen BatchNorm runs in inference mode, with the functional training=False caveat.',
        ],
        default: 'auto',
        description: 'Framework semantics the freeze analysis assumes when a config does not set "runtime".',
      },
      'freezeInspector.modelSearch.exclude': {
        type: 'array',
        items: { type: 'string' },
        default: ['**/node_modules/**', '**/.git/**'],
        description: 'Glob patterns excluded when searching the workspace for models.',
      },
      'freezeInspector.modelSearch.maxModels': { type: 'number', default: 500, minimum: 1, description: 'Most models listed in the Models view.' },
      'freezeInspector.python.interpreterPath': {
        type: 'string',
        default: '',
        scope: 'machine-overridable',
        description: 'Python interpreter with TensorFlow for the Python verification engine (empty: the built-in TensorFlow.js engine). Ignored in untrusted workspaces.',
      },
      'freezeInspector.verify.steps': { type: 'number', default: 20, minimum: 1, description: 'Training steps of the short verification fine-tune when the config sets none.' },
    },
  },
  walkthroughs: [
    {
      id: 'freezeInspector.start',
      title: 'See what freezing does to BatchNorm',
      description: 'Open the sample model, find the BatchNorm statistics that drift while "frozen", fix the config, and verify with a short fine-tune.',
      steps: [
        {
          id: 'open',
          title: 'Open the sample model',
          description: 'Open the Models view and the seed model: its layers, variables and the BatchNorm marks.\n[Show Models](command:freezeInspector.models.focus)\n[Open Model...](command:freezeInspector.openModel)',
          media: { markdown: 'media/walkthrough/open.md' },
          completionEvents: ['onView:freezeInspector.models'],
        },
        {
          id: 'finding',
          title: 'See the finding',
          description: 'Open seed.freeze.json: the Problems panel shows frozen BatchNorm statistics that keep drifting.\n[Analyze Freeze Config](command:freezeInspector.analyze)',
          media: { markdown: 'media/walkthrough/finding.md' },
          completionEvents: ['onCommand:freezeInspector.analyze'],
        },
        {
          id: 'fix',
          title: 'Apply the fix',
          description: 'Put the cursor on the warning and press Ctrl+. (Cmd+. on macOS): the preferred quick fix edits the config, and the finding disappears.\n[Show Problems](command:workbench.actions.view.problems)',
          media: { markdown: 'media/walkthrough/fix.md' },
        },
        {
          id: 'verify',
          title: 'Verify by fine-tuning',
          description: 'Run a short local fine-tune and compare what changed with what was predicted.\n[Verify by Fine-tuning](command:freezeInspector.verify)',
          media: { markdown: 'media/walkthrough/verify.md' },
          completionEvents: ['onCommand:freezeInspector.verify'],
        },
      ],
    },
  ],
};

const activationEvents = [
  'workspaceContains:**/*.freeze.json',
  'workspaceContains:**/saved_model.pb',
  'workspaceContains:**/saved_model.pbtxt',
  'workspaceContains:**/*.keras',
  'workspaceContains:**/*.h5',
  'workspaceContains:**/*.meta',
  'onLanguage:python',
];

const capabilities = {
  untrustedWorkspaces: {
    supported: 'limited',
    description: 'In an untrusted workspace Freeze Inspector only reads models and configs and shows the analysis. Verification (a fine-tune, possibly in a Python interpreter) is disabled.',
    restrictedConfigurations: ['freezeInspector.python.interpreterPath'],
  },
  virtualWorkspaces: { supported: false, description: 'Models are read from the local file system.' },
};

const file = path.join(root, 'package.json');
const pkg = JSON.parse(readFileSync(file, 'utf8'));
pkg.contributes = contributes;
pkg.activationEvents = activationEvents;
pkg.capabilities = capabilities;
pkg.icon = 'media/icon.png';
pkg.galleryBanner = { color: '#1e2a3a', theme: 'dark' };
writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
console.log(`wrote contributes (${commands.length} commands), activationEvents, capabilities, icon, galleryBanner to package.json`);

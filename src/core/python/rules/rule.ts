// What every rule is: a function from the script's idioms to findings. One rule per file; index.ts lists them.
import type { ScriptModel } from '../idioms';
import type { ScriptFinding, ScriptFindingCode } from '../types';

export interface ScriptRule {
  readonly code: ScriptFindingCode;
  /** One line for docs and `check-script --list-rules`. */
  readonly description: string;
  run(m: ScriptModel): ScriptFinding[];
}

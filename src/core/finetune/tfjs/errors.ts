// Maps whatever a run threw to the 'error' event the host sees: typed errors keep their reason, anything
// else is an engine failure with its message (never a silent hang).
import { isFreezeInspectorError } from '../../io/errors';
import type { EngineErrorReason, EngineEvent, UnsupportedLayer } from '../types';

const REASONS: readonly EngineErrorReason[] = ['unsupported-model', 'not-rebuildable', 'cancelled', 'no-python', 'no-tensorflow', 'data', 'engine-failure'];

export function toErrorEvent(requestId: string, e: unknown): Extract<EngineEvent, { type: 'error' }> {
  if (isFreezeInspectorError(e)) {
    const reason = (REASONS as readonly string[]).includes(e.reason) ? (e.reason as EngineErrorReason) : e.domain === 'model' ? 'data' : 'engine-failure';
    const unsupported = (e as { unsupported?: UnsupportedLayer[] }).unsupported;
    return { type: 'error', requestId, error: { reason: e.domain === 'model' ? 'engine-failure' : reason, message: e.message, ...(unsupported ? { unsupported } : {}) } };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { type: 'error', requestId, error: { reason: 'engine-failure', message: `TensorFlow.js engine failed: ${message}` } };
}

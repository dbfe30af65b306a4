/** The functions' admin action: `cloud.callFunction` from a function or a script. */
import { parseBoundedJson } from '../database/ejson';
import { type AdminAction, AdminError, invalid } from '../admin/action';

const invokeFunction: AdminAction = async (p, { runtime, source }) => {
  const name = p.function_name;
  if (typeof name !== 'string' || !name) throw invalid('function_name must be a non-empty string');
  let event: unknown = {};
  if (typeof p.request_data === 'string' && p.request_data) {
    try {
      event = parseBoundedJson(p.request_data);
    } catch (e) {
      throw invalid(`request_data must be JSON: ${(e as Error).message}`);
    }
  }
  // X-TCB-Source is `<caller's TCB_SOURCE>,<run env tag>`: the callee's SOURCE extends the caller's chain.
  const callerSource = source?.split(',').slice(0, -1).join(',') || undefined;
  const outcome = await runtime.invoke(name, {
    event,
    source: 'function',
    ...(callerSource ? { callerSource } : {}),
  });
  if (!outcome.ok) {
    const code = outcome.kind === 'not-found' ? 'FUNCTIONS_REQUEST_FAIL' : 'FUNCTIONS_EXECUTE_FAIL';
    throw new AdminError(code, `errCode: ${outcome.errCode} | errMsg: ${outcome.errMsg}`);
  }
  return { data: { response_data: JSON.stringify(outcome.value) } };
};

export const functionActions: Record<string, AdminAction> = {
  'functions.invokeFunction': invokeFunction,
};

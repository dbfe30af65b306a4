/**
 * The one switch between the cloud and the local stack, and what each needs.
 *
 * `mode` picks the backend: `cloud` uses wx.cloud (callFunction + database watch); `local` talks
 * to the local stack (`npm start`) over wx.request and a WebSocket, so the same pages run against
 * either. The build can set it without editing this file: `MINIPROGRAM_MODE=local npm run build`.
 */

export type BackendMode = 'cloud' | 'local';

export interface TemplateIds {
  /** subscription template for "extraction finished" */
  success: string;
  /** subscription template for "extraction failed" */
  failure: string;
}

export interface AppConfig {
  mode: BackendMode;
  cloud: {
    /** CloudBase environment id; empty = the default environment of the AppID */
    env: string;
    templates: TemplateIds;
  };
  local: {
    /** the local stack; on a phone use the computer's LAN address, with domain checks off */
    baseUrl: string;
    /** the user the local stack sees (it trusts the `x-wx-openid` header) */
    openid: string;
    /** the local stack's template ids (scripts/local-stack.ts LOCAL_DEFAULTS) */
    templates: TemplateIds;
  };
}

// Replaced by the build (esbuild `define`) when MINIPROGRAM_MODE is set; absent in tests.
declare const __MINIPROGRAM_MODE__: string | undefined;

function buildMode(): BackendMode | null {
  const v = typeof __MINIPROGRAM_MODE__ === 'string' ? __MINIPROGRAM_MODE__ : '';
  return v === 'local' || v === 'cloud' ? v : null;
}

const defaults: AppConfig = {
  mode: buildMode() ?? 'cloud',
  cloud: {
    env: '',
    // Fill in the two template ids from the WeChat admin console (订阅消息 → 我的模板); they must
    // match SUBSCRIBE_TEMPLATE_SUCCESS_ID / SUBSCRIBE_TEMPLATE_FAILURE_ID of the functions.
    templates: { success: '', failure: '' },
  },
  local: {
    baseUrl: 'http://127.0.0.1:3000',
    openid: 'local-user',
    templates: { success: 'local-success-template', failure: 'local-failure-template' },
  },
};

let current: AppConfig = clone(defaults);

function clone(c: AppConfig): AppConfig {
  return {
    mode: c.mode,
    cloud: { env: c.cloud.env, templates: { ...c.cloud.templates } },
    local: { ...c.local, templates: { ...c.local.templates } },
  };
}

export function getConfig(): AppConfig {
  return current;
}

export interface ConfigPatch {
  mode?: BackendMode;
  cloud?: Partial<AppConfig['cloud']>;
  local?: Partial<AppConfig['local']>;
}

/** For tests and debugging tools: change settings before the first call. */
export function setConfig(patch: ConfigPatch): AppConfig {
  current = {
    mode: patch.mode ?? current.mode,
    cloud: { ...current.cloud, ...patch.cloud },
    local: { ...current.local, ...patch.local },
  };
  return current;
}

export function resetConfig(): void {
  current = clone(defaults);
}

/** The template ids of the active mode, as set; '' is a template not set up yet (askToNotify skips it). */
export function activeTemplates(): TemplateIds {
  return current.mode === 'local' ? current.local.templates : current.cloud.templates;
}

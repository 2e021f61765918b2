/**
 * What the assistant says in transcripts (authorization cards and error steps), in one place. Texts
 * the user reads in the real DingTalk client are bilingual (Chinese first, English beside it);
 * diagnostics meant for the skill's developer are English.
 */
export const messages = {
  // ---- authorization cards (the user reads them) ---------------------------------------------------

  /** Platform-triggered card: the user has granted nothing to the app yet. */
  needsAuthorization: (appName: string, summary: string): string =>
    `${appName} 需要你的授权 needs your authorization to ${summary}`,
  /** Platform-triggered card: the grant lacks some declared scopes. */
  needsMorePermissions: (appName: string, missing: readonly string[]): string =>
    `${appName} 需要更多权限 needs more permissions: ${missing.join(', ')}`,
  /** Skill-triggered card, `InvalidAuthentication`. */
  authorizationExpired: (appName: string): string =>
    `${appName} 的授权已失效或不存在，请重新授权 The app's authorization expired or is missing: authorize again`,
  /** Skill-triggered card, permission denied. */
  lacksPermission: (appName: string): string => `${appName} 缺少接口权限 lacks a permission: authorize it`,

  // ---- consent decisions -------------------------------------------------------------------------

  consentDenied: (appName: string, error: string | undefined): string =>
    `用户拒绝了授权，技能未再执行。The user did not authorize ${appName} (${error}); the skill was not run again.`,
  consentWrongUser: (ownerName: string, askerName: string, owner: string, askerId: string): string =>
    `授权账号（${ownerName}）与提问的用户（${askerName}）不一致，技能未再执行。` +
    `Consent was given as ${owner}, not as ${askerId} who asked; the skill was not run again.`,
  consentExpired: (): string => 'no decision on the authorization card in time; the skill was not run',
  headlessConsentFailed: (error: string): string => `headless consent failed: ${error}`,
  consentIncomplete: (missing: readonly string[]): string =>
    `after consent the grant still lacks ${missing.join(', ')}; the skill was not run again`,

  // ---- the skill's answer (for the skill's developer) ----------------------------------------------

  undeclaredScopes: (operationId: string, undeclared: readonly string[]): string =>
    `skill "${operationId}" needs ${undeclared.join(', ')} but does not declare it: declare it in \`scopes\` of defineSkill (x-dingtalk-delegated-scopes); DingTalk asks the user only for declared scopes`,
  authorizationFailedAgain: (code: string, undeclaredWarning: string | undefined): string =>
    `the skill answered ${code} again right after the user consented; the assistant does not ask twice in a row. ` +
    (undeclaredWarning !== undefined
      ? `${undeclaredWarning}.`
      : 'Check that the skill exchanges the fresh oauthAuthCode at /v1.0/oauth2/userAccessToken and that ' +
        'x-dingtalk-delegated-scopes lists every permission it uses.'),
  skillError: (detail: string): string => `the skill answered with an error (${detail})`,

  // ---- the call failed ---------------------------------------------------------------------------

  noSubscriber: (appName: string, clientId: string, message: string): string =>
    `${appName} (${clientId}) has no live Stream connection subscribed to /v1.0/graph/api/invoke: is the app running (dingtalk-skills dev)? ${message}`,
  callTimeout: (message: string): string => `the skill did not answer in time: ${message}`,
  httpCallFailed: (serverUrl: string | undefined, message: string): string =>
    `calling ${serverUrl} failed: ${message}`,
  callFailed: (code: string, message: string): string => `the call failed (${code}): ${message}`,
} as const;

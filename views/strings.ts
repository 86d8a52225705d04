// Every user-facing string of the hosted pages, so they can be translated.
// Values are plain text: templates escape them when interpolated.

export const strings = {
  en: {
    'login.title': 'Sign in',
    'login.lead': 'Sign in to continue to {client}.',
    'login.email': 'Email',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.invalid': 'The email or password is not correct.',

    'login.passkey': 'Sign in with a passkey',
    'login.or': 'or',
    'login.passkeyFailed': 'That passkey could not be used. Try again, or sign in with your password.',
    'throttle.message': 'Too many attempts. Try again in {wait}.',
    'throttle.minutes.one': '{n} minute',
    'throttle.minutes.other': '{n} minutes',
    'throttle.seconds.one': '{n} second',
    'throttle.seconds.other': '{n} seconds',

    'mfa.title': 'Two-step verification',
    'mfa.lead': 'Confirm it is you, {account}.',
    'mfa.code': 'Code from your authenticator app',
    'mfa.verify': 'Verify',
    'mfa.securityKey': 'Use a security key or passkey',
    'mfa.recoveryHeading': 'Lost your device?',
    'mfa.recoveryCode': 'Recovery code',
    'mfa.useRecovery': 'Use recovery code',
    'mfa.remember.one': 'Remember this device for {n} day',
    'mfa.remember.other': 'Remember this device for {n} days',
    'mfa.invalidCode': 'That code is not correct or was already used. Enter the current code.',
    'mfa.invalidRecovery': 'That recovery code is not valid or was already used.',
    'mfa.bothCodes': 'Enter either the code from your authenticator app or a recovery code, not both.',
    'mfa.webauthn.failed': 'The security key could not be verified. Try again.',
    'mfa.webauthn.unknown': 'This security key is not registered to your account.',
    'mfa.webauthn.duplicate': 'This security key is already registered.',
    'mfa.webauthn.unsupported': 'This browser cannot use security keys or passkeys.',
    'mfa.recoveryLeft.one': 'You signed in with a recovery code. You have {n} recovery code left.',
    'mfa.recoveryLeft.other': 'You signed in with a recovery code. You have {n} recovery codes left.',
    'mfa.recoveryLow': 'Generate new recovery codes on your account page soon.',
    'mfa.continue': 'Continue',
    'mfa.otherAccount': 'Use another account',
    'mfa.noRecovery': 'No device and no recovery codes? Ask an administrator to reset your two-step verification (they can run “latchkey users reset-mfa”), then sign in with your password.',

    'enrol.title': 'Set up two-step verification',
    'enrol.lead': 'Your account needs a second step at sign-in. Add an authenticator app or a security key to continue.',
    'enrol.totpHeading': 'Authenticator app',
    'enrol.totpHelp': 'Scan this QR code with your authenticator app, or enter the key by hand, then type the 6-digit code it shows.',
    'enrol.secret': 'Key',
    'enrol.qrLabel': 'QR code for your authenticator app; the same key is written out below.',
    'enrol.totpName': 'Name for this authenticator app',
    'enrol.keyName': 'Name for this security key',
    'enrol.totpDefaultName': 'Authenticator app',
    'enrol.keyDefaultName': 'Security key',
    'enrol.confirm': 'Add authenticator app',
    'enrol.keyHeading': 'Security key or passkey',
    'enrol.keyHelp': 'Use a passkey on this device or a hardware security key.',
    'enrol.addKey': 'Add a security key or passkey',
    'enrol.invalidName': 'Give it a name of at most 60 characters.',
    'enrol.noDevice': 'No authenticator app or security key to add? Ask an administrator for help.',

    'recovery.title': 'Save your recovery codes',
    'recovery.lead': 'Each code signs you in once if you lose your authenticator. They are shown only now: store them somewhere safe.',
    'recovery.download': 'Download codes',
    'recovery.copy': 'Copy codes',
    'recovery.copied': 'Copied',

    'account.title': 'Your account',
    /** The built-in client's name, as in "Sign in to continue to {client}." */
    'account.clientName': 'your account',
    'account.signedInAs': 'Signed in as {email}.',
    'account.factors': 'Two-step verification',
    'account.noFactors': 'No second step yet. Add one to protect your account.',
    'account.kind.totp': 'Authenticator app',
    'account.kind.webauthn': 'Security key or passkey',
    'account.kind.synced': 'Passkey (synced)',
    'account.added': 'Added {date}',
    'account.lastUsed': 'last used {date}',
    'account.neverUsed': 'never used',
    'account.remove': 'Remove',
    'account.addTotp': 'Add an authenticator app',
    'account.addKey': 'Add a security key or passkey',
    'account.recovery': 'Recovery codes',
    'account.recoveryLeft.one': '{n} of 10 recovery codes left.',
    'account.recoveryLeft.other': '{n} of 10 recovery codes left.',
    'account.recoveryNone': 'You get recovery codes when you add your first authenticator app or security key.',
    'account.regenerate': 'Generate new codes',
    'account.devices': 'Remembered devices',
    'account.noDevices': 'No remembered devices.',
    'account.deviceUntil': 'until {date}',
    'account.forget': 'Forget',
    'account.password': 'Password',
    'account.newPassword': 'New password',
    'account.changePassword': 'Change password',
    'account.passwordChanged': 'Your password was changed. Every session, this one included, was signed out and remembered devices were forgotten. Sign in with the new password.',
    'account.factorAdded': 'Added “{name}”.',
    'account.factorRemoved': 'Removed.',
    'account.lastFactorRequired': 'Two-step verification is required for your account: add another factor before removing this one.',
    'account.deviceForgotten': 'That device will ask for a second step again.',
    'account.signOut': 'Sign out',
    'account.reauthNote': 'Changes ask you to confirm it is you first.',
    'account.totpTitle': 'Add an authenticator app',
    'account.keyTitle': 'Add a security key or passkey',
    'account.back': 'Back to your account',

    'consent.title': 'Authorize {client}',
    'consent.lead': '{client} is asking for access to your account.',
    'consent.leadAs': '{client} is asking for access to your account {account}.',
    'consent.scopesHeading': 'This will allow it to:',
    'consent.claimsHeading': 'Information it will receive:',
    'consent.resourceHeading': 'Access to {resource}:',
    'consent.allow': 'Allow',
    'consent.deny': 'Deny',

    'scope.openid': 'Confirm your identity',
    'scope.profile': 'See your name and basic profile',
    'scope.email': 'See your email address',
    'scope.offline_access': 'Stay connected when you are not using it',
    'scope.other': 'Use the “{scope}” permission',

    'claim.name': 'Your name',
    'claim.given_name': 'Your first name',
    'claim.family_name': 'Your last name',
    'claim.email': 'Your email address',
    'claim.email_verified': 'Whether your email address is verified',
    'claim.other': '“{claim}”',

    'logout.title': 'Sign out',
    'logout.question': 'Do you want to sign out of {product}?',
    'logout.questionFrom': '{client} asked to sign you out of {product}. Do you want to sign out?',
    'logout.confirm': 'Sign out',
    'logout.stay': 'Stay signed in',
    'loggedOut.title': 'Signed out',
    'loggedOut.message': 'You have signed out.',
    'loggedOut.messageFrom': 'You have signed out of {client}.',

    'home.title': 'Sign-in service',
    'home.lead': '{product} signs people in to apps: an app sends you here when you sign in to it.',
    'home.account': 'Your account: sign in, two-step verification, remembered devices',
    'home.discovery': 'OpenID Connect discovery document (for developers)',

    'error.title': 'Something went wrong',
    'error.generic': 'An unexpected error occurred. Please try again later.',
    'error.status': 'Error {status}',
    'error.reference': 'Reference: {id}',
    'error.400': 'The request could not be understood.',
    'error.403': 'The request was refused. Go back, reload the page, and try again.',
    'error.404': 'This page does not exist.',
    'error.413': 'The submitted form is too large.',
    'error.415': 'The submitted form is in an unsupported format.',
    'error.429': 'Too many attempts. Please wait a moment and try again.',
    'error.title.400': 'Bad request',
    'error.title.403': 'Request refused',
    'error.title.404': 'Page not found',
    'error.title.429': 'Too many attempts',
    'error.interaction_expired': 'This sign-in page has expired. Go back to the app and start again.',
    'error.step_not_allowed': 'This step of the sign-in is not available now. Go back to the app and start again.',
    'error.csrf': 'The form has expired or was not sent by this site. Go back, reload the page, and try again.',
    'error.cross_site': 'This form was sent from another site and was refused.',
    'error.body_too_large': 'The submitted form is too large.',
    'error.body_type': 'Forms must be sent as application/x-www-form-urlencoded.',
  },
};

export type StringKey = keyof typeof strings.en;

/** Looks up a string and fills `{name}` placeholders; unknown placeholders stay as they are. */
export function t(key: StringKey, vars: Record<string, string | number> = {}): string {
  return strings.en[key].replace(/\{(\w+)\}/g, (match, name: string) => (name in vars ? String(vars[name]) : match));
}

/** Keys with plural forms: `base.one`, `base.other` (CLDR categories of the language; `other` always exists). */
export type PluralKey = StringKey extends infer K ? (K extends `${infer Base}.other` ? Base : never) : never;

const pluralRules = new Intl.PluralRules('en');

/** A string about `n` things in the plural form `n` needs, with `{n}` filled. */
export function tn(key: PluralKey, n: number, vars: Record<string, string | number> = {}): string {
  const form = `${key}.${pluralRules.select(n)}`;
  return t(hasString(form) ? form : `${key}.other` as StringKey, { ...vars, n });
}

/** True when `key` names a string (for keys built at run time, e.g. `scope.${name}`). */
export function hasString(key: string): key is StringKey {
  return Object.hasOwn(strings.en, key);
}

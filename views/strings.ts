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

    'error.title': 'Something went wrong',
    'error.generic': 'An unexpected error occurred. Please try again later.',
    'error.status': 'Error {status}',
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

/** True when `key` names a string (for keys built at run time, e.g. `scope.${name}`). */
export function hasString(key: string): key is StringKey {
  return Object.hasOwn(strings.en, key);
}

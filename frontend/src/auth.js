// Thin wrapper around Amplify v6 Auth (Cognito user pool). Stores and views use only this module,
// so tests can replace it with a mock and no Amplify type leaks into the app.
import { Amplify } from 'aws-amplify'
import {
  confirmSignUp as amplifyConfirmSignUp,
  fetchAuthSession,
  getCurrentUser,
  resendSignUpCode as amplifyResendSignUpCode,
  signIn as amplifySignIn,
  signOut as amplifySignOut,
  signUp as amplifySignUp,
} from 'aws-amplify/auth'

export const ADMIN_GROUP = 'admin'

// How sign-in proves the password. Cognito's default, SRP, never sends it; the local stack asks for
// USER_PASSWORD_AUTH instead, because its emulated Cognito cannot check an SRP proof.
let signInOptions = {}

/** Configures Amplify from the runtime config (see config.js). */
export function configureAuth(config) {
  signInOptions = config.authFlowType ? { authFlowType: config.authFlowType } : {}
  const cognito = {
    userPoolId: config.userPoolId,
    userPoolClientId: config.userPoolClientId,
    loginWith: { email: true },
  }
  // Set locally to the emulated Cognito; absent on AWS.
  if (config.userPoolEndpoint) cognito.userPoolEndpoint = config.userPoolEndpoint
  Amplify.configure({ Auth: { Cognito: cognito } })
}

/** Turns an Amplify/Cognito error into an Error with a message a shopper can read. */
export function authError(error) {
  if (error instanceof Error && error.message) {
    const wrapped = new Error(error.message)
    wrapped.name = error.name || 'AuthError'
    wrapped.cause = error
    return wrapped
  }
  return new Error('Authentication failed. Please try again.')
}

async function call(fn) {
  try {
    return await fn()
  } catch (error) {
    throw authError(error)
  }
}

/** Describes a user from their ID token payload. */
export function userFromIdToken(payload) {
  if (!payload) return null
  const groups = payload['cognito:groups']
  return {
    sub: payload.sub,
    email: payload.email || payload['cognito:username'] || '',
    groups: Array.isArray(groups) ? groups.map(String) : groups ? [String(groups)] : [],
  }
}

// Whether the app believes a user is signed in. A signed-in request must never quietly go out
// anonymously (it would show the anonymous cart), so a missing token then is an error.
let expectSignedIn = false

/** The signed-in user ({sub, email, groups}) or null. Never throws for "not signed in". */
export async function currentUser() {
  let session
  try {
    session = await fetchAuthSession()
  } catch {
    expectSignedIn = false
    return null
  }
  const user = userFromIdToken(session?.tokens?.idToken?.payload)
  expectSignedIn = user !== null
  if (user && !user.email.includes('@')) {
    // Some token issuers (the local Cognito emulator's SRP flow) put no usable email in the ID
    // token; show the email the user signed in with instead.
    try {
      const login = (await getCurrentUser())?.signInDetails?.loginId
      if (login) user.email = login
    } catch {
      // keep what the token says
    }
  }
  return user
}

/**
 * The current Cognito ID token (refreshed by Amplify when expired), or null when signed out.
 * Throws when a signed-in session can no longer produce one.
 */
export async function getIdToken() {
  let session
  try {
    session = await fetchAuthSession()
  } catch (error) {
    if (!expectSignedIn) return null
    throw authError(error)
  }
  const token = session?.tokens?.idToken?.toString() || null
  if (!token && expectSignedIn) {
    const error = new Error('Your session has expired. Please sign out and sign in again.')
    error.name = 'SessionExpired'
    throw error
  }
  return token
}

/**
 * Signs in with email and password. Resolves to 'DONE' or the next step Cognito asks for
 * (e.g. 'CONFIRM_SIGN_UP' for an unconfirmed account).
 */
export async function signIn(email, password) {
  const result = await call(() =>
    amplifySignIn({ username: email, password, ...(signInOptions.authFlowType ? { options: signInOptions } : {}) }),
  )
  if (result.isSignedIn) return 'DONE'
  return result.nextStep?.signInStep || 'UNKNOWN'
}

export async function signOut() {
  try {
    await call(() => amplifySignOut())
  } finally {
    expectSignedIn = false
  }
}

/** Registers a new account; resolves to the next step ('CONFIRM_SIGN_UP' or 'DONE'). */
export async function signUp(email, password) {
  const result = await call(() =>
    amplifySignUp({ username: email, password, options: { userAttributes: { email } } }),
  )
  return result.nextStep?.signUpStep || (result.isSignUpComplete ? 'DONE' : 'CONFIRM_SIGN_UP')
}

export async function confirmSignUp(email, code) {
  await call(() => amplifyConfirmSignUp({ username: email, confirmationCode: code }))
}

export async function resendSignUpCode(email) {
  await call(() => amplifyResendSignUpCode({ username: email }))
}

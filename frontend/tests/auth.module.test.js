import { beforeEach, describe, expect, it, vi } from 'vitest'
import { Amplify } from 'aws-amplify'
import * as amplifyAuth from 'aws-amplify/auth'
import * as auth from '../src/auth.js'

vi.mock('aws-amplify', () => ({ Amplify: { configure: vi.fn() } }))
vi.mock('aws-amplify/auth', () => ({
  signIn: vi.fn(),
  signOut: vi.fn(),
  signUp: vi.fn(),
  confirmSignUp: vi.fn(),
  resendSignUpCode: vi.fn(),
  fetchAuthSession: vi.fn(),
  getCurrentUser: vi.fn(),
}))

const base = {
  region: 'us-east-1',
  userPoolId: 'us-east-1_abc',
  userPoolClientId: 'client-1',
  cartApiUrl: 'http://localhost:8080/cart-api',
  productApiUrl: 'http://localhost:8080/product-api',
}

function session(payload, token = 'header.payload.sig') {
  return { tokens: { idToken: { payload, toString: () => token } } }
}

describe('auth module (Amplify wrapper)', () => {
  beforeEach(() => {
    vi.mocked(amplifyAuth.fetchAuthSession).mockResolvedValue({})
  })

  it('configures the user pool, with the local endpoint only when given', () => {
    auth.configureAuth({ ...base, userPoolEndpoint: 'http://localhost:8080/cognito' })
    expect(Amplify.configure).toHaveBeenLastCalledWith({
      Auth: {
        Cognito: {
          userPoolId: 'us-east-1_abc',
          userPoolClientId: 'client-1',
          userPoolEndpoint: 'http://localhost:8080/cognito',
          loginWith: { email: true },
        },
      },
    })
    auth.configureAuth(base)
    expect(Amplify.configure.mock.lastCall[0].Auth.Cognito).not.toHaveProperty('userPoolEndpoint')
  })

  it('reads the user and admin groups from the ID token', async () => {
    vi.mocked(amplifyAuth.fetchAuthSession).mockResolvedValue(
      session({ sub: 'u1', email: 'admin@example.com', 'cognito:groups': ['admin'] }),
    )
    await expect(auth.currentUser()).resolves.toEqual({ sub: 'u1', email: 'admin@example.com', groups: ['admin'] })
    await expect(auth.getIdToken()).resolves.toBe('header.payload.sig')
  })

  it('shows the sign-in email when the token carries no usable email', async () => {
    vi.mocked(amplifyAuth.fetchAuthSession).mockResolvedValue(session({ sub: 'u1', email: 'u1', 'cognito:username': 'u1' }))
    vi.mocked(amplifyAuth.getCurrentUser).mockResolvedValue({ username: 'u1', signInDetails: { loginId: 'shopper@example.com' } })
    await expect(auth.currentUser()).resolves.toMatchObject({ sub: 'u1', email: 'shopper@example.com' })
    vi.mocked(amplifyAuth.getCurrentUser).mockRejectedValue(new Error('no user'))
    await expect(auth.currentUser()).resolves.toMatchObject({ sub: 'u1', email: 'u1' })
  })

  it('is signed out when there are no tokens or the session fails', async () => {
    await expect(auth.currentUser()).resolves.toBeNull()
    await expect(auth.getIdToken()).resolves.toBeNull()
    vi.mocked(amplifyAuth.fetchAuthSession).mockRejectedValue(new Error('refresh failed'))
    await expect(auth.currentUser()).resolves.toBeNull()
    await expect(auth.getIdToken()).resolves.toBeNull()
  })

  it('never lets a signed-in request go out anonymously', async () => {
    vi.mocked(amplifyAuth.fetchAuthSession).mockResolvedValue(session({ sub: 'u1', email: 'a@example.com' }))
    await auth.currentUser()
    vi.mocked(amplifyAuth.fetchAuthSession).mockResolvedValue({}) // tokens gone (refresh token expired)
    await expect(auth.getIdToken()).rejects.toThrow(/session has expired/)
    vi.mocked(amplifyAuth.fetchAuthSession).mockRejectedValue(new Error('A network error has occurred.'))
    await expect(auth.getIdToken()).rejects.toThrow('A network error has occurred.')
    await auth.signOut()
    vi.mocked(amplifyAuth.fetchAuthSession).mockResolvedValue({})
    await expect(auth.getIdToken()).resolves.toBeNull()
  })

  it('signs in with the email as username and maps the next step', async () => {
    vi.mocked(amplifyAuth.signIn).mockResolvedValueOnce({ isSignedIn: true, nextStep: { signInStep: 'DONE' } })
    await expect(auth.signIn('a@example.com', 'pw')).resolves.toBe('DONE')
    expect(amplifyAuth.signIn).toHaveBeenCalledWith({ username: 'a@example.com', password: 'pw' })
    vi.mocked(amplifyAuth.signIn).mockResolvedValueOnce({ isSignedIn: false, nextStep: { signInStep: 'CONFIRM_SIGN_UP' } })
    await expect(auth.signIn('a@example.com', 'pw')).resolves.toBe('CONFIRM_SIGN_UP')
  })

  it('signs in with the flow the config names (the local stack asks for USER_PASSWORD_AUTH), SRP otherwise', async () => {
    auth.configureAuth({ ...base, authFlowType: 'USER_PASSWORD_AUTH' })
    vi.mocked(amplifyAuth.signIn).mockResolvedValueOnce({ isSignedIn: true, nextStep: { signInStep: 'DONE' } })
    await auth.signIn('a@example.com', 'pw')
    expect(amplifyAuth.signIn).toHaveBeenLastCalledWith({
      username: 'a@example.com',
      password: 'pw',
      options: { authFlowType: 'USER_PASSWORD_AUTH' },
    })
    auth.configureAuth(base)
    vi.mocked(amplifyAuth.signIn).mockResolvedValueOnce({ isSignedIn: true, nextStep: { signInStep: 'DONE' } })
    await auth.signIn('a@example.com', 'pw')
    expect(amplifyAuth.signIn).toHaveBeenLastCalledWith({ username: 'a@example.com', password: 'pw' })
  })

  it('keeps the error name and message from Cognito', async () => {
    const cognito = Object.assign(new Error('Incorrect username or password.'), { name: 'NotAuthorizedException' })
    vi.mocked(amplifyAuth.signIn).mockRejectedValue(cognito)
    await expect(auth.signIn('a@example.com', 'bad')).rejects.toMatchObject({
      name: 'NotAuthorizedException',
      message: 'Incorrect username or password.',
    })
  })

  it('signs up with the email attribute and confirms with the code', async () => {
    vi.mocked(amplifyAuth.signUp).mockResolvedValue({ isSignUpComplete: false, nextStep: { signUpStep: 'CONFIRM_SIGN_UP' } })
    await expect(auth.signUp('n@example.com', 'Passw0rd!')).resolves.toBe('CONFIRM_SIGN_UP')
    expect(amplifyAuth.signUp).toHaveBeenCalledWith({
      username: 'n@example.com',
      password: 'Passw0rd!',
      options: { userAttributes: { email: 'n@example.com' } },
    })
    await auth.confirmSignUp('n@example.com', '123456')
    expect(amplifyAuth.confirmSignUp).toHaveBeenCalledWith({ username: 'n@example.com', confirmationCode: '123456' })
  })

  it('reads a single group given as a string', () => {
    expect(auth.userFromIdToken({ sub: 'x', email: 'e', 'cognito:groups': 'admin' }).groups).toEqual(['admin'])
    expect(auth.userFromIdToken({ sub: 'x', email: 'e' }).groups).toEqual([])
  })
})

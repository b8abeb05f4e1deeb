import { setConfigForTesting } from '../src/config.js'

// jsdom does not implement scrolling; the router's scrollBehavior calls it on every navigation.
window.scrollTo = () => {}

// The shop's configuration as config.json hands it over (a test file may set its own).
setConfigForTesting({
  region: 'us-east-1',
  userPoolId: 'us-east-1_test',
  userPoolClientId: 'client',
  cartApiUrl: 'http://localhost/',
  productApiUrl: 'http://localhost/',
  maxQuantity: 1000,
})

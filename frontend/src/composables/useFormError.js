import { onMounted, ref } from 'vue'
import { useAuthStore } from '../stores/auth.js'

/**
 * The error an account form shows: its own check (`localError`) or the auth store's last error.
 * A form opens without a stale error from another page, and dismissing clears both.
 */
export function useFormError() {
  const auth = useAuthStore()
  const localError = ref('')
  onMounted(() => auth.clearError())
  function dismissError() {
    localError.value = ''
    auth.clearError()
  }
  return { localError, dismissError }
}

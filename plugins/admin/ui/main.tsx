// The script's entry (the style sheet's is styles/app.css): the app, once the session is known (without one the API
// sends the browser to the login page).
import { render } from 'preact'
import { errorMessage, loadSession } from './api.ts'
import { App } from './app.tsx'

async function start(): Promise<void> {
  let root = document.getElementById('app')
  if (!root) {
    root = document.createElement('div')
    root.id = 'app'
    document.body.append(root)
  }
  try {
    render(<App session={await loadSession()} />, root)
  } catch (error) {
    root.innerHTML = ''
    const message = document.createElement('p')
    message.className = 'load-error'
    message.setAttribute('role', 'alert')
    message.textContent = `The console could not start: ${errorMessage(error)}`
    root.append(message)
  }
}

void start()

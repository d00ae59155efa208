// SPDX-License-Identifier: MIT
// main.jsx - the agent workspace: mounts the app.
import { render } from 'preact';

function App() {
  return <main><h1>Knotenpunkt</h1></main>;
}

render(<App />, document.getElementById('app'));

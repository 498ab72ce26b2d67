import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { pickApi } from './lib/api/index.ts';
import { KeeperState } from './lib/keeper.svelte.ts';

const api = pickApi();
const keeper = api === null ? null : new KeeperState(api);
void keeper?.start();
mount(App, { target: document.getElementById('app')!, props: { keeper } });

/**
 * A stand-in for the `electron` module, for tests only: it records what the
 * shell asks of Electron (windows, IPC handlers, protocol, tray, quit) so the
 * smoke test can check the shell under plain Node, where Electron cannot run.
 */
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface Recorded {
  windows: FakeBrowserWindow[];
  ipcHandlers: Map<string, (event: unknown, arg: unknown) => unknown>;
  schemes: unknown[];
  protocolHandlers: Map<string, (request: { url: string }) => Response | Promise<Response>>;
  permissionRequest: ((contents: unknown, permission: string, callback: (ok: boolean) => void) => void) | null;
  permissionCheck: (() => boolean) | null;
  trays: FakeTray[];
  exposed: Map<string, Record<string, unknown>>;
  invoked: { channel: string; arg: unknown }[];
  externalOpened: string[];
  errorBoxes: { title: string; body: string }[];
  exitCode: number | null;
  quitCalls: number;
  loginItems: unknown[];
  switches: [string, string | undefined][];
}

export const recorded: Recorded = {
  windows: [],
  ipcHandlers: new Map(),
  schemes: [],
  protocolHandlers: new Map(),
  permissionRequest: null,
  permissionCheck: null,
  trays: [],
  exposed: new Map(),
  invoked: [],
  externalOpened: [],
  errorBoxes: [],
  exitCode: null,
  quitCalls: 0,
  loginItems: [],
  switches: [],
};
(globalThis as { __fakeElectron?: Recorded }).__fakeElectron = recorded;

const appRoot = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

class FakeApp extends EventEmitter {
  isPackaged = false;
  readonly commandLine = {
    appendSwitch(name: string, value?: string): void {
      recorded.switches.push([name, value]);
    },
  };
  private readonly paths = new Map<string, string>();
  requestSingleInstanceLock(): boolean {
    return true;
  }
  whenReady(): Promise<void> {
    return Promise.resolve();
  }
  getAppPath(): string {
    return appRoot;
  }
  getVersion(): string {
    return '0.1.0';
  }
  getName(): string {
    return 'waku-keeper';
  }
  setPath(name: string, value: string): void {
    this.paths.set(name, value);
  }
  getPath(name: string): string {
    return this.paths.get(name) ?? appRoot;
  }
  quit(): void {
    recorded.quitCalls++;
    const event = { defaultPrevented: false, preventDefault(): void { this.defaultPrevented = true; } };
    this.emit('before-quit', event);
  }
  exit(code = 0): void {
    recorded.exitCode = code;
  }
  setLoginItemSettings(s: unknown): void {
    recorded.loginItems.push(s);
  }
}
export const app = new FakeApp();

export class FakeWebContents extends EventEmitter {
  openHandler: ((details: { url: string }) => { action: string }) | null = null;
  sent: { channel: string; value: unknown }[] = [];
  setWindowOpenHandler(h: (details: { url: string }) => { action: string }): void {
    this.openHandler = h;
  }
  send(channel: string, value: unknown): void {
    this.sent.push({ channel, value });
  }
}

export class FakeBrowserWindow extends EventEmitter {
  readonly options: Record<string, unknown>;
  readonly webContents = new FakeWebContents();
  url: string | null = null;
  visible = false;
  destroyed = false;
  constructor(options: Record<string, unknown>) {
    super();
    this.options = options;
    recorded.windows.push(this);
  }
  loadURL(url: string): Promise<void> {
    this.url = url;
    this.emit('ready-to-show');
    return Promise.resolve();
  }
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  focus(): void {}
  restore(): void {}
  isMinimized(): boolean {
    return false;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}
export const BrowserWindow = FakeBrowserWindow;

export const session = {
  defaultSession: {
    setPermissionRequestHandler(h: Recorded['permissionRequest']): void {
      recorded.permissionRequest = h;
    },
    setPermissionCheckHandler(h: Recorded['permissionCheck']): void {
      recorded.permissionCheck = h;
    },
  },
};

export const shell = {
  openExternal(url: string): Promise<void> {
    recorded.externalOpened.push(url);
    return Promise.resolve();
  },
  openPath(): Promise<string> {
    return Promise.resolve('');
  },
};

export const protocol = {
  registerSchemesAsPrivileged(schemes: unknown[]): void {
    recorded.schemes.push(...schemes);
  },
  handle(scheme: string, handler: (request: { url: string }) => Response): void {
    recorded.protocolHandlers.set(scheme, handler);
  },
};

export const ipcMain = {
  handle(channel: string, handler: (event: unknown, arg: unknown) => unknown): void {
    recorded.ipcHandlers.set(channel, handler);
  },
};

export class FakeTray extends EventEmitter {
  image: unknown;
  tooltip = '';
  menu: { label?: string; type?: string; checked?: boolean; click?: () => void }[] = [];
  destroyed = false;
  constructor(image: unknown) {
    super();
    this.image = image;
    recorded.trays.push(this);
  }
  setImage(image: unknown): void {
    this.image = image;
  }
  setToolTip(t: string): void {
    this.tooltip = t;
  }
  setContextMenu(menu: { items: FakeTray['menu'] }): void {
    this.menu = menu.items;
  }
  destroy(): void {
    this.destroyed = true;
  }
}
export const Tray = FakeTray;

export const Menu = {
  buildFromTemplate(items: FakeTray['menu']): { items: FakeTray['menu'] } {
    return { items };
  },
};

export const nativeImage = {
  createFromPath(path: string): { path: string } {
    return { path };
  },
};

export class Notification {
  static isSupported(): boolean {
    return false;
  }
  show(): void {}
}

export const dialog = {
  showErrorBox(title: string, body: string): void {
    recorded.errorBoxes.push({ title, body });
  },
};

// The renderer side, for loading the preload.
export const contextBridge = {
  exposeInMainWorld(key: string, api: Record<string, unknown>): void {
    recorded.exposed.set(key, api);
  },
};
const rendererEvents = new EventEmitter();
export const ipcRenderer = {
  invoke(channel: string, arg: unknown): Promise<unknown> {
    recorded.invoked.push({ channel, arg });
    return Promise.resolve(null);
  },
  on(channel: string, listener: (...args: unknown[]) => void): void {
    rendererEvents.on(channel, listener);
  },
  removeListener(channel: string, listener: (...args: unknown[]) => void): void {
    rendererEvents.off(channel, listener);
  },
  /** Test helper: deliver a push from main. */
  emitFromMain(channel: string, value: unknown): void {
    rendererEvents.emit(channel, { sender: 'ipc-event' }, value);
  },
  listenerCount(channel: string): number {
    return rendererEvents.listenerCount(channel);
  },
};

export default { app, BrowserWindow, session, shell, protocol, ipcMain, Tray, Menu, nativeImage, Notification, dialog, contextBridge, ipcRenderer };

// What `electron` resolves to in the core layer's type-check (tsconfig.json):
// nothing. main/core runs under plain Node; only main/electron and preload may
// import Electron, and they are checked by tsconfig.electron.json.
declare const electronIsNotAvailableInTheCoreLayer: unique symbol;
export { electronIsNotAvailableInTheCoreLayer };

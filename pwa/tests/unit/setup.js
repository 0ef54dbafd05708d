// IndexedDB's globals (IDBRequest, IDBKeyRange, …) for idb; each test then takes a fresh,
// empty factory (see freshDB in helpers.js).
import "fake-indexeddb/auto";

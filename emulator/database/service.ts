/** The database service: the document store and its transactions, opened on `<dataDir>/db`. */
import * as path from 'node:path';
import type { EmulatorService } from '../service';
import { Store } from './store';
import { TransactionManager } from './transaction';

export interface DatabaseService extends EmulatorService {
  readonly name: 'database';
  readonly store: Store;
  readonly transactions: TransactionManager;
}

/** Opens the store (taking the data dir's lock) and creates `collections` if missing. */
export function createDatabase(
  dataDir: string,
  collections: readonly string[],
  log: (line: string) => void,
): DatabaseService {
  const store = Store.open(path.join(dataDir, 'db'), log);
  try {
    for (const c of collections) store.create(c);
  } catch (e) {
    store.close();
    throw e;
  }
  const transactions = new TransactionManager(store, log);
  return {
    name: 'database',
    store,
    transactions,
    close() {
      transactions.close();
      store.close();
    },
  };
}

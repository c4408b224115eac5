// Used only by `npm run migration:create` to diff the entities against a scratch database.
import 'reflect-metadata';
import { ormConfig } from './orm-config.js';

export default ormConfig(process.env.DATABASE_URL ?? 'postgresql://root@127.0.0.1:5432/ferry_migrations');

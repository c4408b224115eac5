import type { NonEmptyArray } from 'type-graphql';
import { AuthResolver } from './auth.js';
import { CloudResolver } from './clouds.js';
import { LicenseResolver } from './license.js';
import { NodeResolver } from './node.js';

export const resolvers: NonEmptyArray<Function> = [NodeResolver, AuthResolver, LicenseResolver, CloudResolver];

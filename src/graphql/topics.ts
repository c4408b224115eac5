import { createPubSub } from '@graphql-yoga/subscription';

/** Subscription topics, fed by PostgreSQL notifications so that every replica hears every change. */
export const Topic = {
  LicenseChanged: 'LICENSE_CHANGED',
} as const;

export type FerryPubSub = ReturnType<typeof createFerryPubSub>;

export const createFerryPubSub = () => createPubSub<{ [Topic.LicenseChanged]: [licenseId: string] }>();

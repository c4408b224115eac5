import { Migration } from '@mikro-orm/migrations';

export class Migration20261129232333_hosts extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "source_hosts" add column "last_seen_at" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "source_hosts" drop column "last_seen_at";`);
  }

}

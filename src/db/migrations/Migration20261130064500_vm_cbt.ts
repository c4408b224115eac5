import { Migration } from '@mikro-orm/migrations';

export class Migration20261130064500_vm_cbt extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "task_volumes" add column "cbt_change_id" varchar(255) null, add column "cbt_pending_change_id" varchar(255) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "task_volumes" drop column "cbt_change_id", drop column "cbt_pending_change_id";`);
  }

}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangePasswordDocument, CurrentLicenseDocument, LoginDocument, ViewerDocument } from './generated/graphql.js';
import { graphql, rest } from './support/clients.js';
import { ADMIN_PASSWORD, INITIAL_ADMIN_PASSWORD, startTestFerry, type TestFerry } from './support/ferry.js';

describe('first login of the admin', () => {
  let t: TestFerry;
  beforeAll(async () => {
    t = await startTestFerry();
  });
  afterAll(() => t.close());

  it('must change the initial password before doing anything else, through REST and GraphQL alike', async () => {
    const login = await rest(t.url, '/Login', { UserName: 'admin', Password: INITIAL_ADMIN_PASSWORD });
    expect(login.status).toBe(200);
    expect(login.text).toMatch(/^\{"Code":true,"Msg":"[^"]+","Data":\{"Token":"[^"]+","IsFirstLogin":true\}\}$/);
    const token = login.body.Data.Token;

    const blocked = await rest(t.url, '/MgntSetting', { Action: 'GetLicense' }, token);
    expect(blocked.status).toBe(403);
    expect(blocked.body).toEqual({ Code: false, Msg: expect.stringContaining('Change the initial password first'), Data: null });

    const gqlViewer = await graphql(t.url, ViewerDocument, {}, token);
    expect(gqlViewer.data?.viewer.isFirstLogin).toBe(true);
    const gqlBlocked = await graphql(t.url, CurrentLicenseDocument, {}, token);
    expect(gqlBlocked.errors?.[0]).toMatchObject({ message: expect.stringContaining('Change the initial password first'), extensions: { code: 'FORBIDDEN' } });

    const weak = await rest(t.url, '/MgntSetting', { Action: 'ChangePassword', UserName: 'admin', Password: INITIAL_ADMIN_PASSWORD, NewPassword: 'abcdefgh' }, token);
    expect(weak.status).toBe(400);
    expect(weak.body.Code).toBe(false);
    expect(weak.body.Msg).toBe('NewPassword must contain at least two of: letters, digits, special characters.');

    const wrongOld = await rest(t.url, '/MgntSetting', { Action: 'ChangePassword', UserName: 'admin', Password: 'Not-the-one1', NewPassword: ADMIN_PASSWORD }, token);
    expect(wrongOld.status).toBe(400);
    expect(wrongOld.body.Msg).toContain('Password');

    const otherUser = await rest(t.url, '/MgntSetting', { Action: 'ChangePassword', UserName: 'root', Password: INITIAL_ADMIN_PASSWORD, NewPassword: ADMIN_PASSWORD }, token);
    expect(otherUser.status).toBe(403);
    expect(otherUser.body.Msg).toContain('"admin"');

    const changed = await rest(t.url, '/MgntSetting', { Action: 'ChangePassword', UserName: 'admin', Password: INITIAL_ADMIN_PASSWORD, NewPassword: ADMIN_PASSWORD }, token);
    expect(changed.text).toBe('{"Code":true,"Msg":"Change Password Success.","Data":null}');

    // the same token now reaches everything
    const license = await rest(t.url, '/MgntSetting', { Action: 'GetLicense' }, token);
    expect(license.status).toBe(404);
    expect(license.body.Msg).toBe('No license is activated.');

    const oldPassword = await rest(t.url, '/Login', { UserName: 'admin', Password: INITIAL_ADMIN_PASSWORD });
    expect(oldPassword.status).toBe(401);
    expect(oldPassword.body).toEqual({ Code: false, Msg: 'Wrong user name or password.', Data: null });

    const again = await graphql(t.url, LoginDocument, { input: { userName: 'admin', password: ADMIN_PASSWORD } });
    expect(again.data?.login.userErrors).toEqual([]);
    expect(again.data?.login.isFirstLogin).toBe(false);
    const viewer = await graphql(t.url, ViewerDocument, {}, again.data!.login.token!);
    expect(viewer.data?.viewer).toMatchObject({ userName: 'admin', isFirstLogin: false });
  });

  it('ends the other sessions of the user when the password changes, and refuses a weak one in GraphQL by field', async () => {
    const first = await graphql(t.url, LoginDocument, { input: { userName: 'admin', password: ADMIN_PASSWORD } });
    const second = await graphql(t.url, LoginDocument, { input: { userName: 'admin', password: ADMIN_PASSWORD } });
    const tokenA = first.data!.login.token!;
    const tokenB = second.data!.login.token!;

    const weak = await graphql(t.url, ChangePasswordDocument, { input: { userName: 'admin', password: ADMIN_PASSWORD, newPassword: '12345' } }, tokenA);
    expect(weak.data?.changePassword.userErrors).toEqual([{ field: 'newPassword', code: 'INVALID_INPUT', message: 'NewPassword must be 6 to 20 characters long.' }]);

    const changed = await graphql(t.url, ChangePasswordDocument, { input: { userName: 'admin', password: ADMIN_PASSWORD, newPassword: 'Third-pass3' } }, tokenA);
    expect(changed.data?.changePassword).toMatchObject({ userErrors: [], user: { userName: 'admin', isFirstLogin: false } });

    expect((await graphql(t.url, ViewerDocument, {}, tokenA)).data?.viewer.userName).toBe('admin');
    const ended = await graphql(t.url, ViewerDocument, {}, tokenB);
    expect(ended.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(ended.errors?.[0].message).toContain('log in again');

    // put the shared password back for the next tests of this file
    await graphql(t.url, ChangePasswordDocument, { input: { userName: 'admin', password: 'Third-pass3', newPassword: ADMIN_PASSWORD } }, tokenA);
  });
});

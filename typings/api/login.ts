/** login: `{ code }` from wx.login → the caller's profile. The only function that takes no action. */

export interface Profile {
  openid: string;
  isAdmin: boolean;
  createdAt: number;
  lastLoginAt: number;
}

export interface LoginRequest {
  code: string;
}
export type LoginResponse = Profile;

import { ConditionFailed, StoreBase, GO } from "./base.js";

/** The IdP identity an e-mail address is bound to (security rule 1). */
export interface IdentityBinding {
  readonly email: string;
  readonly issuer: string;
  readonly subject: string;
  readonly boundAt: string;
}

/** Identity bindings: one item per address, written once at its first verified sign-in. */
export class IdentityStore extends StoreBase {
  /** The identity an address is bound to, if any (strongly consistent). */
  async getBinding(email: string): Promise<IdentityBinding | undefined> {
    const { data } = await this.entities.identityBinding.get({ email }).go({ ...GO, consistent: true });
    return data ?? undefined;
  }

  /**
   * Binds an address unless it is bound already (`bindingDoesNotExist`); returns the binding that
   * holds afterwards (this one, or the one a concurrent first sign-in wrote).
   */
  async bindOnce(binding: IdentityBinding): Promise<IdentityBinding> {
    try {
      await this.transact((e) => [e.identityBinding.create(binding).commit()]);
      return binding;
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err;
      const existing = await this.getBinding(binding.email);
      if (!existing) throw err;
      return existing;
    }
  }
}

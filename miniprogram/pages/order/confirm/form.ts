/** The confirm page's input handling, kept apart from the page so it can be tested on its own. */

const PHONE = /^1[3-9]\d{9}$/;

export function parseItems(raw: string | undefined): { productId: string; quantity: number }[] {
  try {
    const value = JSON.parse(decodeURIComponent(raw ?? '')) as unknown;
    if (!Array.isArray(value)) return [];
    return value
      .filter(
        (i): i is { productId: string; quantity: number } =>
          typeof i?.productId === 'string' && Number.isInteger(i?.quantity) && i.quantity > 0,
      )
      .map((i) => ({ productId: i.productId, quantity: i.quantity }));
  } catch {
    return [];
  }
}

export function validateContact(name: string, phone: string, remark: string): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!name.trim()) errors.name = '请填写姓名';
  else if ([...name.trim()].length > 20) errors.name = '姓名最多 20 个字';
  if (!PHONE.test(phone.trim())) errors.phone = '请填写正确的 11 位手机号';
  if ([...remark].length > 200) errors.remark = '备注最多 200 字';
  return errors;
}

import simulate from 'miniprogram-simulate';
declare const __dirname: string;
const TDESIGN = `${__dirname}/../../node_modules/tdesign-miniprogram/miniprogram_dist`;

test('a TDesign button renders and taps', async () => {
  const button = simulate.load(`${TDESIGN}/button/button`, 't-button', { less: false, rootPath: TDESIGN });
  const host = simulate.load({ template: '<t-button id="b" bind:tap="onTap">付款</t-button>', usingComponents: { 't-button': button }, methods: { onTap() { (this as unknown as { data: { n: number } }).data.n += 1; } }, data: { n: 0 } } as never);
  const comp = simulate.render(host);
  comp.attach(document.createElement('parent-wrapper'));
  expect(comp.dom!.textContent).toContain('付款');
  const inner = comp.querySelector('#b')!;
  inner.dispatchEvent('tap');
  await simulate.sleep(0);
  console.log(comp.dom!.innerHTML.slice(0, 300));
});

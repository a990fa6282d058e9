Component({
  data: { title: '微信支付示例' },
});

// The card form of a Stripe payment: Stripe.js's Payment Element mounted with the
// PaymentIntent's client secret; Stripe confirms the payment and comes back to the page,
// which shows what the webhook booked. Only on the card payment page (its CSP allows Stripe).
(function () {
  "use strict";
  var el = document.getElementById("payment-element");
  var form = document.getElementById("stripe-card-form");
  if (!el || !form || typeof Stripe === "undefined") { return; }
  var options = el.dataset.account ? { stripeAccount: el.dataset.account } : {};
  var stripe = Stripe(el.dataset.key, options);
  var elements = stripe.elements({ clientSecret: el.dataset.secret });
  elements.create("payment").mount(el);
  var error = document.getElementById("card-error");
  var button = form.querySelector("button");
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    button.disabled = true;
    stripe.confirmPayment({ elements: elements, confirmParams: { return_url: el.dataset.return } })
      .then(function (r) {
        if (r.error) { error.textContent = r.error.message || ""; button.disabled = false; }
      });
  });
})();

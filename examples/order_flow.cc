// An order, with what durable workflows add beyond the original Garcon:
//   reserve  the stock; the inventory service is flaky, so failures are
//            retried with backoff (SWF timers between attempts);
//   charge   waits for a person's approval (the signal `approved`, whose
//            input reaches the task), then charges the card; a declined card
//            is not worth retrying (garcon::NonRetryable);
//   pack     runs packing_flow (pick, then pack) as a child workflow, with
//            its own decider and workers; its result joins the order's;
//   ship     after a cooling-off delay (a timer), ships the order;
//   notify   mails the customer; optional: when the mail service is down,
//            the order still completes and its result lists the failure
//            under `notify.failed`.
//
//   order_flow run --signal approved='{"approver":"ana"}'
//   order_flow run --input '{"inventory_failures": 2}' --signal approved
//   order_flow run --input '{"card": "declined"}' --signal approved   (FAILED)
//   order_flow run --input '{"mail": "down"}' --signal approved   (COMPLETED)
// Against a server, a person approves from anywhere:
//   order_flow start --workflow-id order-42 --input '{"amount": 12.5}'
//   order_flow signal order-42 approved --input '{"approver":"ana"}'
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>

#include "garcon/garcon.h"

using garcon::ActivityExecution;
using garcon::Context;

namespace {

// Calls to the inventory service in this process: its first
// `inventory_failures` calls fail, as a service that is down for a while.
std::atomic<int> inventory_calls{0};

Context Reserve(ActivityExecution& activity, const Context& order) {
  const int failures = order.value("inventory_failures", 0);
  if (++inventory_calls <= failures) {
    activity.logger()->info("inventory service unavailable");
    throw std::runtime_error("inventory service unavailable");
  }
  return {{"reserved", order.value("items", 1)}};
}

Context Charge(ActivityExecution&, const Context& order) {
  if (order.value("card", "") == "declined") throw garcon::NonRetryable("card declined");
  return {{"charged", order.value("amount", 9.99)},
          {"approved_by", order.value("approver", "someone")}};
}

Context Pick(ActivityExecution&, const Context& order) {
  return {{"picked", order.value("reserved", 0)}};
}

Context Pack(ActivityExecution&, const Context& order) {
  return {{"boxes", (order.value("picked", 0) + 2) / 3}};
}

Context Ship(ActivityExecution&, const Context& order) {
  return {{"shipped", true},
          {"tracking", "TRK-" + std::to_string(order.value("reserved", 0)) + "-" +
                           std::to_string(order.value("boxes", 0))}};
}

Context Notify(ActivityExecution&, const Context& order) {
  if (order.value("mail", "") == "down") throw std::runtime_error("mail service unavailable");
  return {{"notified", true}};
}

}  // namespace

int main(int argc, char** argv) {
  // The child flow: its own workflow type, decider and workers.
  garcon::Flow packing("dev", "packing_flow");
  auto& pick = packing.Activity("pick").Run(garcon::Sync(garcon::Task(Pick)));
  packing.Activity("pack").Requires({&pick}).Run(garcon::Sync(garcon::Task(Pack)));

  garcon::Flow flow("dev", "order_flow");
  garcon::RetryPolicy backoff;
  backoff.retries = 4;
  backoff.initial_interval = std::chrono::seconds(1);
  backoff.multiplier = 2;
  backoff.maximum_interval = std::chrono::seconds(30);
  backoff.jitter = 0.2;
  auto& reserve = flow.Activity("reserve").Retry(backoff).Run(garcon::Sync(garcon::Task(Reserve)));
  auto& charge = flow.Activity("charge")
                     .Requires({&reserve})
                     .AwaitSignal("approved")
                     .Retry(3)
                     .Run(garcon::Sync(garcon::Task(Charge)));
  auto& pack = flow.Activity("pack").Requires({&charge}).Retry(1).Run(garcon::Child(packing));
  auto& ship = flow.Activity("ship")
                   .Requires({&pack})
                   .After(std::chrono::seconds(1))
                   .Run(garcon::Sync(garcon::Task(Ship)));
  flow.Activity("notify").Requires({&ship}).Retry(1).Optional().Run(
      garcon::Sync(garcon::Task(Notify)));
  return garcon::Main(flow, argc, argv);
}

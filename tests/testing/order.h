// An order flow for the test kit's tests: reserve (backoff of an hour between
// attempts), charge (awaits the signal `approved`; a declined card is not
// retried), pack (a child flow: pick then pack), ship (a day after charging),
// notify (optional).
#pragma once

#include <chrono>
#include <stdexcept>

#include "garcon/activity_execution.h"
#include "garcon/flow.h"

namespace garcon::test {

inline Task Returns(Context result) {
  return Task([result](ActivityExecution&, const Context&) { return result; });
}

struct OrderFlows {
  Flow packing{"shop", "packing"};
  Flow order{"shop", "order"};

  OrderFlows() {
    auto& pick = packing.Activity("pick").Run(Sync(Returns({{"picked", true}})));
    packing.Activity("pack").Requires({&pick}).Run(Sync(Returns({{"boxes", 2}})));

    RetryPolicy hourly;
    hourly.retries = 3;
    hourly.initial_interval = std::chrono::hours(1);
    auto& reserve = order.Activity("reserve").Retry(hourly).Run(Sync(Returns({{"reserved", 1}})));
    auto& charge = order.Activity("charge")
                       .Requires({&reserve})
                       .AwaitSignal("approved")
                       .Retry(2)
                       .Run(Sync(Returns({{"charged", true}})));
    auto& pack = order.Activity("pack").Requires({&charge}).Run(Child(packing));
    auto& ship = order.Activity("ship")
                     .Requires({&pack})
                     .After(std::chrono::hours(24))
                     .Run(Sync(Returns({{"shipped", true}})));
    order.Activity("notify").Requires({&ship}).Optional().Run(Sync(Returns({{"notified", true}})));
  }
};

}  // namespace garcon::test

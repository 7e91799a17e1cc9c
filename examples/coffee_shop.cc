// A custom decider: enter the shop; order a coffee and a cookie at the same
// time; pay the total of their prices; leave.
#include "garcon/garcon.h"

using garcon::ActivityExecution;
using garcon::Context;

int main(int argc, char** argv) {
  garcon::Flow flow("dev", "coffee_shop");
  auto& enter = flow.Activity("enter").Run(garcon::Sync(
      [](ActivityExecution&, const Context&) { return Context{{"customer.inside", true}}; }));
  auto& coffee = flow.Activity("order_coffee")
                     .Run(garcon::Sync([](ActivityExecution&, const Context&) {
                       return Context{{"coffee.price", 3.5}};
                     }))
                     .Retry(2);
  auto& cookie = flow.Activity("order_cookie")
                     .Run(garcon::Sync([](ActivityExecution&, const Context&) {
                       return Context{{"cookie.price", 1.25}};
                     }))
                     .Retry(2);
  auto& pay = flow.Activity("pay").Run(garcon::Sync(
      garcon::Task(
          [](ActivityExecution& activity, double total) -> Context {
            activity.logger()->info("paying {}", total);
            return {{"paid", total}};
          },
          "total")));
  auto& leave = flow.Activity("leave").Run(garcon::Sync(
      [](ActivityExecution&, const Context&) { return Context{{"customer.inside", false}}; }));

  flow.Decider([&](garcon::Schedule& schedule, const Context&) {
    auto entered = schedule("enter", enter);
    auto coffee_order = schedule("coffee", coffee, {entered});
    auto cookie_order = schedule("cookie", cookie, {entered});
    // Reading a result that is not ready stops this decision quietly; the
    // decider runs again when the orders complete.
    const double total = coffee_order.result().value("coffee.price", 0.0) +
                         cookie_order.result().value("cookie.price", 0.0);
    auto paid = schedule("pay", pay, {coffee_order, cookie_order}, {{"total", total}});
    schedule("leave", leave, {paid});
  });
  return garcon::Main(flow, argc, argv);
}

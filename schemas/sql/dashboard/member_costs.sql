-- Each registered member's cost, launches and cost per launch in the month @first (its first
-- day), in the reporting currency; unconverted counts cost rows left out for want of a rate.
SELECT member, currency, cost, unconverted, launches, cost_per_launch
FROM {{ public }}.member_costs_monthly
WHERE month = @first
ORDER BY member

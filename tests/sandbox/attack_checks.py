"""Checks both backends' attack suites make on their module's `outcome` fixture (imported
into each, so pytest collects them there)."""

from __future__ import annotations

from sandbox import Verdict


def test_no_state_outlives_a_program(outcome):
    assert all(r.verdict is Verdict.PASSED for r in outcome["left_state"]), [(r.verdict, r.detail, r.tests) for r in outcome["left_state"]]
    assert all(r.verdict is Verdict.PASSED for r in outcome["found_state"]), [r.tests[0].detail for r in outcome["found_state"]]


def test_time_is_the_supervisors_not_the_programs(outcome):
    for semantics in ("lcb", "judge"):
        assert outcome["results"][f"patch_the_clock_{semantics}"].tests[0].seconds >= 1.4


def test_a_program_that_lowers_the_supervisors_limits_harms_no_later_program(outcome):
    lowered = outcome["lowered"]
    assert all(r.verdict is Verdict.PASSED for r in lowered), [(r.verdict, r.tests[0].detail if r.tests else r.detail) for r in lowered]

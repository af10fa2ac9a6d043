//! Simplifier rules, one line per case: a builder over x, y, z → the printed result.

use super::arena::{Arena, Node, NodeId};
use super::display::Names;
use crate::model::{Index, ParamId, StateId, UnaryFn};

struct Vars {
    x: NodeId,
    y: NodeId,
    z: NodeId,
}

fn setup() -> (Arena, Vars) {
    let mut a = Arena::new();
    let x = a.intern(Node::State(StateId(0), Index::constant(0)));
    let y = a.intern(Node::State(StateId(1), Index::constant(0)));
    let z = a.intern(Node::Param(ParamId(0), Index::constant(0)));
    (a, Vars { x, y, z })
}

fn show(a: &Arena, id: NodeId) -> String {
    let params = vec![("z".to_string(), false)];
    let states = vec![("x".to_string(), false), ("y".to_string(), false)];
    Names {
        params: &params,
        states: &states,
        state_offsets: &[0, 1],
    }
    .expr(a, id)
}

macro_rules! simplifies {
    ($($name:ident: |$a:ident, $v:ident| $build:expr => $want:expr;)*) => {
        $(#[test] fn $name() {
            let (mut $a, $v) = setup();
            let id = $build;
            assert_eq!(show(&$a, id), $want);
        })*
    };
}

simplifies! {
    add_zero: |a, v| { let z = a.constant(0.0); a.add(v.x, z) } => "x";
    mul_one: |a, v| { let one = a.constant(1.0); a.mul(one, v.x) } => "x";
    mul_zero: |a, v| { let zero = a.constant(0.0); a.mul(v.x, zero) } => "0";
    constant_folding: |a, _v| { let two = a.constant(2.0); let three = a.constant(3.0); a.pow(two, three) } => "8";
    like_terms: |a, v| a.add(v.x, v.x) => "2*x";
    like_terms_with_coefficients: |a, v| { let c2 = a.constant(2.0); let c3 = a.constant(3.0); let l = a.mul(c2, v.x); let r = a.mul(c3, v.x); a.add(l, r) } => "5*x";
    like_terms_across_a_chain: |a, v| { let s = a.add(v.x, v.y); let t = a.add(s, v.x); a.sub(t, v.y) } => "2*x";
    cancelling_terms: |a, v| { let s = a.add(v.x, v.y); a.sub(s, v.x) } => "y";
    self_difference: |a, v| a.sub(v.x, v.x) => "0";
    square: |a, v| a.mul(v.x, v.x) => "x^2";
    powers_merge: |a, v| { let two = a.constant(2.0); let p = a.pow(v.x, two); a.mul(p, v.x) } => "x^3";
    powers_merge_across_a_product: |a, v| { let p = a.mul(v.x, v.y); let q = a.mul(p, v.z); a.mul(q, v.x) } => "x^2*y*z";
    power_of_power: |a, v| { let two = a.constant(2.0); let three = a.constant(3.0); let p = a.pow(v.x, two); a.pow(p, three) } => "x^6";
    exp_log: |a, v| { let l = a.unary(UnaryFn::Log, v.x); a.unary(UnaryFn::Exp, l) } => "x";
    log_exp: |a, v| { let e = a.unary(UnaryFn::Exp, v.x); a.unary(UnaryFn::Log, e) } => "x";
    double_negation: |a, v| { let n = a.neg(v.x); a.neg(n) } => "x";
    divide_by_constant: |a, v| { let two = a.constant(2.0); a.div(v.x, two) } => "0.5*x";
    constants_collect_last: |a, v| { let one = a.constant(1.0); let s = a.add(one, v.x); let two = a.constant(2.0); a.add(s, two) } => "x + 3";
    commutative_operands_hash_alike: |a, v| { let l = a.add(v.x, v.y); let r = a.add(v.y, v.x); a.sub(l, r) } => "0";
    constant_coefficients_pull_out: |a, v| { let c = a.constant(3.0); let l = a.mul(c, v.x); let r = a.mul(l, v.y); a.mul(r, c) } => "9*x*y";
}

#[test]
fn a_sum_over_a_constant_range_of_an_invariant_body_is_a_product() {
    let (mut a, v) = setup();
    let s = a.reduce(
        crate::model::ReduceOp::Sum,
        crate::model::IndexVar(0),
        Index::constant(0),
        Index::constant(4),
        v.x,
    );
    assert_eq!(show(&a, s), "4*x");
}

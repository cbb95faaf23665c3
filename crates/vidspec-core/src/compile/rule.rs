//! Rules → JSON Schema: one `allOf` entry per error rule (an `if`/`then` when the
//! rule has a condition), and warning rules → a schema that holds when the
//! warning applies.
//!
//! One match arm per action kind. It must not know any particular rule.

use serde_json::{Map, Value, json};

use super::condition::{self, describe, join_and, join_or};
use super::{Annotation, CompiledAdvice, Context, field};
use crate::spec::{Action, Rule};

/// The schema entry of an error rule; `None` when its condition never holds for
/// this model.
pub(crate) fn compile(context: &Context<'_>, rule: &Rule) -> Option<Value> {
    let then = action(context, rule);
    wrap(context, rule, then)
}

/// A warning rule: the schema holds when the warning applies.
pub(crate) fn compile_advice(context: &Context<'_>, rule: &Rule) -> Option<CompiledAdvice> {
    let then = action(context, rule);
    let when = rule
        .when
        .as_ref()
        .map(|when| condition::compile(context, when))
        .unwrap_or(Value::Bool(true));
    let applies = condition::all(vec![when, condition::not(then)]);
    if applies == Value::Bool(false) {
        return None;
    }
    let scope = rule.when.as_ref().map(describe);
    Some(CompiledAdvice {
        rule: rule.id.clone(),
        message: rule
            .message
            .clone()
            .unwrap_or_else(|| generated_message(rule, scope.as_deref())),
        field: named_fields(&rule.then).into_iter().next(),
        when: applies,
        needs: rule
            .when
            .as_ref()
            .map(|when| condition::needs(context, when))
            .unwrap_or_default(),
    })
}

fn wrap(context: &Context<'_>, rule: &Rule, then: Value) -> Option<Value> {
    let Some(when) = &rule.when else {
        return Some(then);
    };
    match condition::compile(context, when) {
        Value::Bool(false) => None,
        Value::Bool(true) => Some(then),
        when => Some(json!({ "if": when, "then": then })),
    }
}

fn base(rule: &Rule) -> Annotation {
    Annotation {
        rule: Some(rule.id.clone()),
        code: rule.code.clone(),
        message: rule.message.clone(),
        scope: rule.when.as_ref().map(describe),
        ..Annotation::default()
    }
}

fn action(context: &Context<'_>, rule: &Rule) -> Value {
    let annotation = base(rule);
    let scope = annotation.scope.as_deref();
    match &rule.then {
        Action::Require(names) => json!({
            "required": names,
            "x-vidspec": annotation,
        }),
        Action::Forbid(names) => condition::all(
            names
                .iter()
                .map(|name| {
                    json!({
                        "not": { "required": [name] },
                        "x-vidspec": Annotation {
                            field: Some(name.clone()),
                            message: annotation.message.clone().or_else(|| Some(match scope {
                                Some(scope) => format!("remove {name}: it is not allowed {scope}"),
                                None => format!("remove {name}: it is not allowed"),
                            })),
                            ..annotation.clone()
                        },
                    })
                })
                .collect(),
        ),
        Action::Together(names) => {
            let mut dependent = Map::new();
            for name in names {
                let others: Vec<&String> = names.iter().filter(|other| *other != name).collect();
                dependent.insert(name.clone(), json!(others));
            }
            json!({
                "dependentRequired": dependent,
                "x-vidspec": Annotation {
                    message: annotation.message.clone().or_else(|| Some(format!(
                        "give {} together", join_and(names)
                    ))),
                    ..annotation.clone()
                },
            })
        }
        Action::ExactlyOneOf(names) => json!({
            "oneOf": names.iter().map(|name| json!({ "required": [name] })).collect::<Vec<_>>(),
            "x-vidspec": Annotation {
                message: annotation.message.clone().or_else(|| Some(format!(
                    "give exactly one of {}", join_or(names)
                ))),
                ..annotation.clone()
            },
        }),
        Action::Exclusive(exclusive) => {
            let mut pairs = Vec::new();
            for (index, first) in exclusive.fields.iter().enumerate() {
                for second in &exclusive.fields[index + 1..] {
                    let allowed = exclusive.allow.iter().any(|pair| {
                        (&pair[0] == first && &pair[1] == second)
                            || (&pair[0] == second && &pair[1] == first)
                    });
                    if !allowed {
                        pairs.push(json!({
                            "not": { "required": [first, second] },
                            "x-vidspec": Annotation {
                                field: Some(second.clone()),
                                message: annotation.message.clone().or_else(|| Some(format!(
                                    "{first} and {second} cannot be given together: remove one"
                                ))),
                                ..annotation.clone()
                            },
                        }));
                    }
                }
            }
            condition::all(pairs)
        }
        Action::Constrain(constraints) => {
            let mut properties = Map::new();
            for (name, constraint) in constraints {
                let Some(field) = context.fields.get(name) else {
                    continue;
                };
                let mut keywords = Map::new();
                field::constrain_into(&mut keywords, field, constraint);
                let mut field_annotation = field::annotation(
                    name,
                    field,
                    constraint,
                    Some(&rule.id),
                    rule.code.as_deref().or(field.error_code.as_deref()),
                );
                field_annotation.scope = annotation.scope.clone();
                field_annotation.message = annotation.message.clone();
                keywords.insert("x-vidspec".into(), json!(field_annotation));
                properties.insert(name.clone(), Value::Object(keywords));
            }
            json!({ "properties": properties })
        }
        Action::Hold(inner) => json!({
            "allOf": [condition::compile(context, inner)],
            "x-vidspec": Annotation {
                message: annotation.message.clone().or_else(|| Some(generated_message(rule, scope))),
                ..annotation.clone()
            },
        }),
    }
}

/// A message for a rule whose author gave none.
fn generated_message(rule: &Rule, scope: Option<&str>) -> String {
    let scope = scope.map(|scope| format!(" {scope}")).unwrap_or_default();
    match &rule.then {
        Action::Require(names) => format!("give {}{scope}", join_and(names)),
        Action::Forbid(names) => format!("leave out {}{scope}", join_and(names)),
        Action::Together(names) => format!("give {} together{scope}", join_and(names)),
        Action::ExactlyOneOf(names) => format!("give exactly one of {}{scope}", join_or(names)),
        Action::Exclusive(exclusive) => {
            format!("give at most one of {}{scope}", join_or(&exclusive.fields))
        }
        Action::Constrain(constraints) => {
            let names: Vec<&String> = constraints.keys().collect();
            format!("check {}{scope}", join_and(&names))
        }
        Action::Hold(inner) => format!(
            "this request breaks rule {}: it must hold {}",
            rule.id,
            describe(inner)
        ),
    }
}

/// The fields an action is about.
pub(crate) fn named_fields(action: &Action) -> Vec<String> {
    match action {
        Action::Require(names)
        | Action::Forbid(names)
        | Action::Together(names)
        | Action::ExactlyOneOf(names) => names.clone(),
        Action::Exclusive(exclusive) => exclusive.fields.clone(),
        Action::Constrain(constraints) => constraints.keys().cloned().collect(),
        Action::Hold(inner) => super::condition_fields(inner),
    }
}

//! `/admin/users`: the tenant's users and a form to add one (ManageUsers).

use leptos::prelude::*;

use crate::api::users::{create_user, list_users, CreateUser, UpdateUser};
use crate::domain::user::UserSummary;
use crate::domain::Role;
use crate::ui::components::error_box::ErrorBox;
use crate::ui::components::notice::DoneNotice;

/// The user list and the add-user form.
#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let update = ServerAction::<UpdateUser>::new();
    let users = Resource::new(
        move || (create.version().get(), update.version().get()),
        |_| list_users(),
    );
    let updated = update.value();
    let _ = create_user;
    view! {
        <h1>"Users"</h1>
        <DoneNotice/>
        {move || updated.get().map(|r| match r {
            Ok(u) => view! { <p class="notice" role="status" data-testid="user-saved">{format!("Saved {}.", u.email)}</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert" data-testid="user-error">{e.to_string()}</p> }.into_any(),
        })}
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(list) => view! {
                        <div class="table-frame">
                        <table class="table" data-testid="users">
                            <thead><tr><th>"Email"</th><th>"Name"</th><th>"Last sign-in (UTC)"</th><th>"Access"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|u| view! { <UserRow u update/> }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                        <AddUserForm create/>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AddUserForm(create: ServerAction<CreateUser>) -> impl IntoView {
    let result = create.value();
    view! {
        <section class="card" data-testid="add-user">
            <h2>"Add a user"</h2>
            <ActionForm action=create attr:class="stack">
                <label>"Email" <input type="email" name="email" required/></label>
                <label>"Name" <input type="text" name="display_name"/></label>
                <label>
                    "Role"
                    <select name="role">
                        // Least privilege first and chosen: a Customer user sees only its orders.
                        {Role::ALL.into_iter().rev().map(|r| view! { <option value=r.as_str() selected=r == Role::Customer>{r.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Customer number (Customer role only)" <input type="text" name="customer_number"/></label>
                <label>"Initial password (12+ characters)" <input type="password" name="password" required minlength="12"/></label>
                <button type="submit">"Add user"</button>
            </ActionForm>
            {move || result.get().map(|r| match r {
                Ok(u) => view! { <p class="notice">"Added " {u.email} "."</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </section>
    }
}

/// One user with an inline form to change the role and whether it may sign in.
#[component]
fn UserRow(u: UserSummary, update: ServerAction<UpdateUser>) -> impl IntoView {
    let state = if u.is_active { "Active" } else { "Deactivated" };
    let role_label = format!("Role of {}", u.email);
    let number_label = format!("Customer number of {} (Customer role)", u.email);
    let id = u.id.to_string();
    let role = u.role;
    view! {
        <tr data-email=u.email.clone()>
            <td>{u.email.clone()}</td>
            <td>{u.display_name.clone()}</td>
            <td>{u.last_login_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "never".into())}</td>
            <td>
                <ActionForm action=update attr:class="inline-form">
                    <input type="hidden" name="id" value=id/>
                    <select name="role" aria-label=role_label>
                        {Role::ALL.into_iter().rev().map(|r| view! { <option value=r.as_str() selected=r == role>{r.label()}</option> }).collect_view()}
                    </select>
                    <input type="text" name="customer_number" inputmode="numeric" placeholder="Customer no." size="8"
                        aria-label=number_label/>
                    <label class="toggle"><input type="checkbox" name="active" value="on" checked=u.is_active/>" Active"</label>
                    <button type="submit" class="small">"Save"</button>
                    <span class="muted small">{state}</span>
                </ActionForm>
            </td>
        </tr>
    }
}

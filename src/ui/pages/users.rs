//! `/admin/users`: the tenant's users and a form to add one (ManageUsers).

use leptos::prelude::*;

use crate::api::users::{create_user, list_users, CreateUser};
use crate::domain::Role;
use crate::ui::components::error_box::ErrorBox;

/// The user list and the add-user form.
#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let users = Resource::new(move || create.version().get(), |_| list_users());
    let _ = create_user;
    view! {
        <h1>"Users"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(list) => view! {
                        <table class="table" data-testid="users">
                            <thead><tr><th>"Email"</th><th>"Name"</th><th>"Role"</th><th>"State"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|u| view! {
                                    <tr>
                                        <td>{u.email}</td>
                                        <td>{u.display_name}</td>
                                        <td>{u.role.label()}</td>
                                        <td>{if u.is_active { "Active" } else { "Disabled" }}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
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
        <section class="card">
            <h2>"Add a user"</h2>
            <ActionForm action=create attr:class="stack">
                <label>"Email" <input type="email" name="email" required/></label>
                <label>"Name" <input type="text" name="display_name"/></label>
                <label>
                    "Role"
                    <select name="role">
                        {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
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

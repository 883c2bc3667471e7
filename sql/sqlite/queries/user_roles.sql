-- name: ListUserRoles :many
SELECT role FROM user_roles WHERE user_id = @user_id ORDER BY role;

-- name: ListAllUserRoles :many
SELECT user_id, role FROM user_roles ORDER BY user_id, role;

-- name: AddUserRole :execrows
INSERT INTO user_roles (user_id, role, granted_at) VALUES (@user_id, @role, @granted_at)
ON CONFLICT DO NOTHING;

-- name: RemoveUserRole :execrows
DELETE FROM user_roles WHERE user_id = @user_id AND role = @role;

variable "admins" {
  type = set(string)
}

resource "aws_iam_user" "admin" {
  for_each = var.admins
  name     = each.value
}

resource "aws_iam_user_login_profile" "admin" {
  for_each = var.admins
  user     = aws_iam_user.admin[each.key].name
}

resource "aws_iam_access_key" "admin" {
  for_each = var.admins
  user     = aws_iam_user.admin[each.key].name
}

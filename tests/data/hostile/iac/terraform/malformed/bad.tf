resource "aws_iam_user" "x" {
  name = "x"

  tags = {
    a = 
}
